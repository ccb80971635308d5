export declare const DEFAULT_LOG_MAX_BYTES: number;
export declare const DEFAULT_LOG_KEEP: number;

export declare class RotatingLogFile {
  constructor(file: string, options?: { maxBytes?: number | undefined; keep?: number | undefined });
  write(chunk: Buffer | string): void;
  end(): void;
}
