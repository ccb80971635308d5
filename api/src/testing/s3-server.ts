// The ambient module lives in a .d.ts that tsconfig.test.json's include does not reach.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./s3rver.d.ts" />
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** s3rver keeps each object as a file under here. */
  dir: string;
  close(): Promise<void>;
}

/** A real S3 REST API (s3rver) on a free loopback port, its objects in a temp folder. */
export async function startS3(bucket = 'telemed-attachments'): Promise<TestS3> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    dir,
    close: async () => {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
