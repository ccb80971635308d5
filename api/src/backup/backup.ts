import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { z } from 'zod';
import { openDatabase, type DatabaseHandle } from '../db/connect.js';
import { migrationStatus } from '../db/migrate.js';
import { DatabaseInUseError, lockDataDir } from '../db/pglite-lock.js';
import { createLogger } from '../logger.js';
import { BackupError } from './backup-error.js';
import { keyRingIds, openKeyRing, sealKeyRing } from './key-ring-file.js';
import { dumpPostgres, postgresRelations, restorePostgres, wipePostgres } from './postgres-tools.js';

/** Where an installation keeps what a backup holds (the API's settings of the same names). */
export interface Installation {
  /** PostgreSQL (DATABASE_URL); the embedded database under `databaseDir` when unset. */
  databaseUrl?: string | undefined;
  databaseDir: string;
  /** Local-disk attachments (ATTACHMENTS_DIR). */
  attachmentsDir: string;
  /** S3_BUCKET: new attachments go to S3; those are not in the backup (bucket versioning and replication keep them). */
  s3Bucket?: string | undefined;
}

export type Progress = (message: string) => void;

const MANIFEST = 'manifest.json';
const POSTGRES_DUMP = 'database.pgdump';
const PGLITE_DUMP = 'database.pglite.tar.gz';
const ATTACHMENTS = 'attachments';

const FileEntry = z.object({ path: z.string(), bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const Manifest = z.object({
  format: z.literal('telemed-backup'),
  version: z.literal(1),
  createdAt: z.string(),
  database: z.object({
    kind: z.enum(['postgres', 'pglite']),
    serverMajor: z.number().int().optional(),
    file: FileEntry,
    /** The last migration applied when the backup was made. */
    schema: z.string().nullable(),
  }),
  attachments: z.object({ files: z.array(FileEntry), s3Bucket: z.string().optional() }),
  /** Key ids the backup's data needs, all in the key file. */
  keyIds: z.array(z.string()),
  counts: z.record(z.string(), z.number()),
});
export type BackupManifest = z.infer<typeof Manifest>;

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function entry(root: string, relative: string): Promise<z.infer<typeof FileEntry>> {
  const file = path.join(root, relative);
  return { path: relative, bytes: fs.statSync(file).size, sha256: await sha256File(file) };
}

/** Reports every `everyMs` at most (a long copy says how far it is without flooding). */
function throttled(progress: Progress, everyMs = 2000): (message: string, force?: boolean) => void {
  let last = 0;
  return (message, force = false) => {
    if (!force && Date.now() - last < everyMs) return;
    last = Date.now();
    progress(message);
  };
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function openInstallationDatabase(installation: Installation): Promise<DatabaseHandle> {
  try {
    return await openDatabase({ url: installation.databaseUrl, dir: installation.databaseDir, poolSize: 1, logger: createLogger('error') });
  } catch (error) {
    if (error instanceof DatabaseInUseError) throw new BackupError('in_use', error.message, { cause: error });
    throw error;
  }
}

export interface BackupOptions {
  installation: Installation;
  /** ENCRYPTION_KEY: sealed into `keyFile`, never written into the backup directory. */
  keyRing: string;
  /** The backup directory to create (must not exist, or be empty). */
  outDir: string;
  /** The sealed key ring; must lie outside `outDir`. */
  keyFile: string;
  passphrase: string;
  onProgress?: Progress;
}

/**
 * One consistent backup: the database as one snapshot (pg_dump, or the embedded database's own
 * copy of its data directory), then the attachment files (already encrypted; every row in the
 * snapshot has its file on disk, since files are written before their rows and never removed),
 * then the manifest with every file's hash. The key ring goes to `keyFile`, sealed with the passphrase.
 */
export async function backupInstallation(options: BackupOptions): Promise<BackupManifest> {
  const progress = options.onProgress ?? (() => undefined);
  const { installation } = options;
  const outDir = path.resolve(options.outDir);
  const keyFile = path.resolve(options.keyFile);
  if (keyFile.startsWith(`${outDir}${path.sep}`))
    throw new BackupError('usage', 'the key file must be kept apart from the backup: give a --key-file outside the backup directory');
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0)
    throw new BackupError('usage', `${outDir} exists and is not empty: give a new directory for each backup`);
  if (fs.existsSync(keyFile)) throw new BackupError('usage', `${keyFile} exists: give a new key file for each backup`);
  const sealed = await sealKeyRing(options.keyRing, options.passphrase);
  fs.mkdirSync(outDir, { recursive: true, mode: 0o700 });

  const started = Date.now();
  const database = await openInstallationDatabase(installation);
  let databaseFile: string;
  let serverMajor: number | undefined;
  let schema: string | null;
  const counts: Record<string, number> = {};
  let keyIds: string[];
  try {
    const status = await migrationStatus(database.db);
    schema = [...status.applied, ...status.unknown].sort().at(-1) ?? null;
    for (const table of ['users', 'conversations', 'messages', 'attachments', 'calls', 'audit_log'] as const) {
      if (status.applied.length === 0) break;
      const row = await database.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    keyIds = keyRingIds(options.keyRing);
    if (database.kind === 'postgres') {
      progress('database: pg_dump (one consistent snapshot)…');
      const tick = throttled(progress);
      ({ serverMajor } = await dumpPostgres(installation.databaseUrl!, path.join(outDir, POSTGRES_DUMP), (line) =>
        tick(`database: ${line.replace(/^pg_dump: /, '')}`),
      ));
      databaseFile = POSTGRES_DUMP;
    } else {
      progress('database: copying the embedded database…');
      const dump = await database.dumpDataDir!();
      fs.writeFileSync(path.join(outDir, PGLITE_DUMP), Buffer.from(await dump.arrayBuffer()), { mode: 0o600 });
      databaseFile = PGLITE_DUMP;
    }
  } finally {
    await database.close();
  }
  const dbEntry = await entry(outDir, databaseFile);
  progress(`database: ${mib(dbEntry.bytes)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const sources = filesUnder(installation.attachmentsDir);
  const files: Array<z.infer<typeof FileEntry>> = [];
  const tick = throttled(progress);
  let bytes = 0;
  progress(`attachments: ${sources.length} files from ${installation.attachmentsDir}…`);
  for (const [index, relative] of sources.entries()) {
    const target = path.join(outDir, ATTACHMENTS, relative);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    fs.copyFileSync(path.join(installation.attachmentsDir, relative), target);
    const copied = await entry(path.join(outDir, ATTACHMENTS), relative);
    files.push(copied);
    bytes += copied.bytes;
    tick(`attachments: ${index + 1}/${sources.length} (${mib(bytes)})`);
  }
  progress(`attachments: ${files.length} files, ${mib(bytes)}`);
  if (installation.s3Bucket)
    progress(`attachments in S3 bucket ${installation.s3Bucket} are not in this backup: its versioning and replication keep them (docs/operations.md)`);

  const manifest: BackupManifest = {
    format: 'telemed-backup',
    version: 1,
    createdAt: new Date().toISOString(),
    database: { kind: database.kind, ...(serverMajor !== undefined ? { serverMajor } : {}), file: dbEntry, schema },
    attachments: { files, ...(installation.s3Bucket ? { s3Bucket: installation.s3Bucket } : {}) },
    keyIds,
    counts,
  };
  fs.writeFileSync(path.join(outDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  fs.mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  fs.writeFileSync(keyFile, sealed, { mode: 0o600, flag: 'wx' });
  progress(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${outDir} (key ring sealed in ${keyFile})`);
  return manifest;
}

/** The manifest, checked against the files beside it (sizes and hashes). */
export async function verifyBackup(dir: string, progress: Progress = () => undefined): Promise<BackupManifest> {
  let manifest: BackupManifest;
  try {
    manifest = Manifest.parse(JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')));
  } catch (error) {
    throw new BackupError(
      'damaged',
      `${dir} is not a Telemed backup (${MANIFEST} missing or unreadable: ${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
    );
  }
  const tick = throttled(progress);
  const all = [{ root: dir, file: manifest.database.file }, ...manifest.attachments.files.map((file) => ({ root: path.join(dir, ATTACHMENTS), file }))];
  for (const [index, { root, file }] of all.entries()) {
    const full = path.resolve(root, file.path);
    if (!full.startsWith(`${path.resolve(root)}${path.sep}`) || !fs.existsSync(full)) throw new BackupError('damaged', `the backup lacks ${file.path}`);
    if ((await sha256File(full)) !== file.sha256)
      throw new BackupError('damaged', `${file.path} differs from what the backup recorded (sha256): the backup is damaged`);
    tick(`checking the backup: ${index + 1}/${all.length} files`);
  }
  return manifest;
}

export interface RestoreOptions {
  /** The empty installation to restore into. */
  installation: Installation;
  from: string;
  keyFile: string;
  passphrase: string;
  /** Replace what the installation holds (it is deleted) instead of refusing. */
  force?: boolean;
  onProgress?: Progress;
}

/** What the installation holds, in words; empty when nothing. */
async function contents(installation: Installation): Promise<string[]> {
  const found: string[] = [];
  if (installation.databaseUrl) {
    const relations = await postgresRelations(installation.databaseUrl);
    if (relations > 0) found.push(`the database has ${relations} tables`);
  } else if (fs.existsSync(installation.databaseDir) && fs.readdirSync(installation.databaseDir).length > 0) {
    found.push(`the embedded database ${installation.databaseDir} exists`);
  }
  const files = filesUnder(installation.attachmentsDir).length;
  if (files > 0) found.push(`${installation.attachmentsDir} holds ${files} files`);
  return found;
}

/**
 * Restores a backup into an empty installation and returns the key ring (the caller puts it where
 * the API reads ENCRYPTION_KEY). Nothing is touched until the backup checks out and the key file
 * opens with the passphrase; an installation that holds data is refused unless `force`.
 */
export async function restoreInstallation(options: RestoreOptions): Promise<{ manifest: BackupManifest; keyRing: string }> {
  const progress = options.onProgress ?? (() => undefined);
  const { installation } = options;
  const started = Date.now();
  const manifest = await verifyBackup(options.from, progress);
  const keyRing = await openKeyRing(fs.readFileSync(options.keyFile), options.passphrase);
  const missingKeys = manifest.keyIds.filter((id) => !keyRingIds(keyRing).includes(id));
  if (missingKeys.length > 0)
    throw new BackupError('passphrase', `the key file lacks key ${missingKeys.join(', ')} the backup needs: it belongs to another backup`);
  const kind = installation.databaseUrl ? 'postgres' : 'pglite';
  if (manifest.database.kind !== kind) {
    throw new BackupError(
      'config',
      `the backup holds ${manifest.database.kind === 'postgres' ? 'a PostgreSQL' : 'an embedded'} database, this installation uses ${kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : 'the embedded database (no DATABASE_URL)'}: restore into the same kind`,
    );
  }
  const found = await contents(installation);
  if (found.length > 0 && !options.force) {
    throw new BackupError(
      'not_empty',
      `refusing to restore into an installation that holds data (${found.join('; ')}): the restore would mix two installations' records or overwrite this one's. ` +
        'Restore into a new database and empty directories, or pass --force to delete what is there first.',
    );
  }
  if (found.length > 0) progress(`--force: deleting what the installation holds (${found.join('; ')})`);

  if (kind === 'postgres') {
    if (found.length > 0) await wipePostgres(installation.databaseUrl!);
    progress('database: pg_restore…');
    const tick = throttled(progress);
    await restorePostgres(installation.databaseUrl!, path.join(options.from, manifest.database.file.path), (line) =>
      tick(`database: ${line.replace(/^pg_restore: /, '')}`),
    );
  } else {
    progress('database: unpacking the embedded database…');
    fs.mkdirSync(path.dirname(path.resolve(installation.databaseDir)), { recursive: true, mode: 0o700 });
    let unlock: () => void;
    try {
      unlock = lockDataDir(installation.databaseDir);
    } catch (error) {
      if (error instanceof DatabaseInUseError) throw new BackupError('in_use', error.message, { cause: error });
      throw error;
    }
    try {
      fs.rmSync(installation.databaseDir, { recursive: true, force: true });
      fs.mkdirSync(installation.databaseDir, { recursive: true, mode: 0o700 });
      const pglite = await PGlite.create(installation.databaseDir, {
        loadDataDir: new Blob([fs.readFileSync(path.join(options.from, manifest.database.file.path))]),
      });
      await pglite.query('select 1');
      await pglite.close();
    } finally {
      unlock();
    }
  }
  progress(`database: restored in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  fs.rmSync(installation.attachmentsDir, { recursive: true, force: true });
  fs.mkdirSync(installation.attachmentsDir, { recursive: true, mode: 0o700 });
  const tick = throttled(progress);
  for (const [index, file] of manifest.attachments.files.entries()) {
    const target = path.join(installation.attachmentsDir, file.path);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    fs.copyFileSync(path.join(options.from, ATTACHMENTS, file.path), target);
    fs.chmodSync(target, 0o600);
    tick(`attachments: ${index + 1}/${manifest.attachments.files.length}`);
  }
  progress(`attachments: ${manifest.attachments.files.length} files`);

  const database = await openInstallationDatabase(installation);
  try {
    const status = await migrationStatus(database.db);
    if (status.unknown.length > 0)
      progress(`note: the backup's schema (${status.unknown.at(-1)}) is newer than this build: run the build that made the backup`);
    else if (status.pending.length > 0) progress(`note: ${status.pending.length} migrations will run when the API starts (the backup is from an older build)`);
  } finally {
    await database.close();
  }
  progress(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { manifest, keyRing };
}
