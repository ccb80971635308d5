// `telemed backup`, `telemed restore` and `telemed migrate`: the operator's commands on an
// installation's data (docs/operations.md). They run on the built API (api/dist) and take the
// same configuration as `telemed serve`.
import fs from 'node:fs';
import path from 'node:path';
import { dataPaths } from './production.mjs';
import { ROOT } from './setup.mjs';

const api = (module) => import(path.join(ROOT, 'api/dist', module));

/** A usage or configuration problem: the message, and the exit code. */
export class CommandError extends Error {
  constructor(message, exitCode) {
    super(message);
    this.exitCode = exitCode;
  }
}

function installationOf(settings) {
  const { databaseDir, attachmentsDir } = dataPaths(settings);
  return { databaseUrl: settings.DATABASE_URL, databaseDir, attachmentsDir, s3Bucket: settings.S3_BUCKET };
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question) {
  return new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stderr.write(question);
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    let value = '';
    const done = (error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new CommandError('interrupted', 130));
        if (char === '\u007f') value = value.slice(0, -1);
        else value += char;
      }
    };
    input.on('data', onData);
  });
}

/**
 * The operator's passphrase: TELEMED_BACKUP_PASSPHRASE, else the first line of --passphrase-file,
 * else asked on the terminal (twice when making a backup). Never echoed or logged.
 */
async function passphrase(settings, values, { confirm }) {
  if (settings.TELEMED_BACKUP_PASSPHRASE) return settings.TELEMED_BACKUP_PASSPHRASE;
  if (values['passphrase-file']) return fs.readFileSync(values['passphrase-file'], 'utf8').split(/\r?\n/)[0];
  if (!process.stdin.isTTY) throw new CommandError('no passphrase: set TELEMED_BACKUP_PASSPHRASE, give --passphrase-file FILE, or run on a terminal', 64);
  const first = await promptHidden('backup passphrase: ');
  if (confirm && (await promptHidden('again: ')) !== first) throw new CommandError('the passphrases differ', 64);
  return first;
}

const progress = (command) => (message) => process.stderr.write(`telemed ${command}: ${message}\n`);

async function withBackupErrors(work) {
  const { BackupError } = await api('backup/backup-error.js');
  try {
    return await work();
  } catch (error) {
    if (error instanceof BackupError) throw new CommandError(error.message, error.exitCode);
    throw error;
  }
}

export async function backup(settings, values) {
  if (!values.out) throw new CommandError('telemed backup: --out DIR is required (a new directory for this backup)', 64);
  if (!settings.ENCRYPTION_KEY) throw new CommandError('telemed backup: ENCRYPTION_KEY is not set: without the key ring a backup cannot be read', 2);
  const out = path.resolve(values.out);
  const keyFile = path.resolve(values['key-file'] ?? `${out}.key-ring`);
  const { backupInstallation } = await api('backup/backup.js');
  const secret = await passphrase(settings, values, { confirm: true });
  await withBackupErrors(() =>
    backupInstallation({
      installation: installationOf(settings),
      keyRing: settings.ENCRYPTION_KEY,
      outDir: out,
      keyFile,
      passphrase: secret,
      onProgress: progress('backup'),
    }),
  );
  process.stdout.write(`backup: ${out}\nkey ring (sealed with the passphrase; keep it apart from the backup): ${keyFile}\n`);
}

/** Sets ENCRYPTION_KEY in the env file (replacing its line, or appended), keeping the file's mode. */
function writeKeyRing(file, keyRing) {
  const text = fs.readFileSync(file, 'utf8');
  const line = `ENCRYPTION_KEY=${keyRing}`;
  const pattern = /^(?:export\s+)?ENCRYPTION_KEY\s*=.*$/m;
  const next = pattern.test(text) ? text.replace(pattern, line) : `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}${line}\n`;
  const partial = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(partial, next, { mode: fs.statSync(file).mode & 0o777 });
  fs.renameSync(partial, file);
}

export async function restore(settings, configFile, values) {
  if (!values.from) throw new CommandError('telemed restore: --from DIR is required (a directory made by telemed backup)', 64);
  const from = path.resolve(values.from);
  const keyFile = path.resolve(values['key-file'] ?? `${from}.key-ring`);
  if (!configFile)
    throw new CommandError(
      'telemed restore: no configuration file (--config FILE, TELEMED_CONFIG or /etc/telemed/telemed.env): the restored key ring is written into it as ENCRYPTION_KEY',
      2,
    );
  if (process.env.ENCRYPTION_KEY)
    throw new CommandError(
      'telemed restore: ENCRYPTION_KEY is set in the environment and would hide the restored key ring: unset it (restore writes ENCRYPTION_KEY into the configuration file)',
      2,
    );
  const { restoreInstallation } = await api('backup/backup.js');
  const secret = await passphrase(settings, values, { confirm: false });
  const { keyRing, manifest } = await withBackupErrors(() =>
    restoreInstallation({
      installation: installationOf(settings),
      from,
      keyFile,
      passphrase: secret,
      force: values.force === true,
      onProgress: progress('restore'),
    }),
  );
  if (settings.ENCRYPTION_KEY !== keyRing) {
    writeKeyRing(configFile, keyRing);
    process.stderr.write(`telemed restore: ENCRYPTION_KEY in ${configFile} set to the backup's key ring (keys ${manifest.keyIds.join(', ')})\n`);
  }
  process.stdout.write(
    `restored the backup of ${manifest.createdAt} (schema ${manifest.database.schema ?? 'empty'}); start the stack with \`telemed serve\`\n`,
  );
}

export async function migrate(settings, action, values) {
  const { openDatabase } = await api('db/connect.js');
  const { migrationStatus, migrateToLatest, migrateDown, SchemaTooNewError } = await api('db/migrate.js');
  const { DatabaseInUseError } = await api('db/pglite-lock.js');
  const { createLogger } = await api('logger.js');
  if (!['status', 'up', 'down'].includes(action)) throw new CommandError('usage: telemed migrate status|up|down [--to NAME|none] [--config FILE]', 64);
  const { databaseUrl, databaseDir } = installationOf(settings);
  let database;
  try {
    database = await openDatabase({ url: databaseUrl, dir: databaseDir, poolSize: 1, logger: createLogger('error') });
  } catch (error) {
    if (error instanceof DatabaseInUseError) throw new CommandError(`telemed migrate: ${error.message}`, 6);
    throw error;
  }
  try {
    if (action === 'status') {
      const status = await migrationStatus(database.db);
      for (const name of status.applied) process.stdout.write(`applied  ${name}\n`);
      for (const name of status.pending) process.stdout.write(`pending  ${name}\n`);
      for (const name of status.unknown) process.stdout.write(`UNKNOWN  ${name}  (applied by a newer build)\n`);
      if (status.unknown.length > 0) throw new SchemaTooNewError(status.unknown);
      process.stdout.write(`${status.applied.length} applied, ${status.pending.length} pending (${database.kind})\n`);
    } else if (action === 'up') {
      const applied = await migrateToLatest(database.db);
      process.stdout.write(applied.length > 0 ? applied.map((n) => `applied  ${n}\n`).join('') : 'the schema is up to date\n');
    } else {
      const undone = await migrateDown(database.db, values.to === undefined ? {} : { to: values.to });
      process.stdout.write(undone.length > 0 ? undone.map((n) => `rolled back  ${n}\n`).join('') : 'nothing to roll back\n');
    }
  } catch (error) {
    if (error instanceof SchemaTooNewError) throw new CommandError(`telemed migrate: ${error.message}`, 78);
    throw error;
  } finally {
    await database.close();
  }
}
