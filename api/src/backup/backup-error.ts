/** Why a backup or restore stopped; `exitCode` is what `telemed backup|restore` exits with. */
export type BackupErrorCode =
  | 'usage' // a missing or bad option
  | 'config' // the installation's settings do not allow it (database kind, key ring)
  | 'not_empty' // restore into an installation that has data, without --force
  | 'passphrase' // wrong passphrase, or a damaged or foreign key ring file
  | 'damaged' // the backup's files are missing or differ from its manifest
  | 'in_use' // the embedded database is open in another process (the API)
  | 'tool'; // pg_dump / pg_restore missing, too old, or failed

const EXIT_CODES: Record<BackupErrorCode, number> = { usage: 64, config: 2, not_empty: 3, passphrase: 4, damaged: 5, in_use: 6, tool: 7 };

export class BackupError extends Error {
  readonly code: BackupErrorCode;

  constructor(code: BackupErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BackupError';
    this.code = code;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}
