// A log file that rotates by size: `api.log` grows to `maxBytes`, then becomes `api.log.1` (the
// previous `.1` becomes `.2`, and so on; the oldest beyond `keep` is deleted) and a new `api.log`
// starts. Writes are synchronous and in order (one process's output at a time); a rotation waits
// for the end of the line being written, so no line is split between two files.
import fs from 'node:fs';

/** LOG_MAX_BYTES (default 10 MiB) and LOG_FILES (rotated files kept, default 5) from the environment. */
export const DEFAULT_LOG_MAX_BYTES = Number(process.env.LOG_MAX_BYTES) || 10 * 1024 * 1024;
export const DEFAULT_LOG_KEEP = Number(process.env.LOG_FILES) || 5;

export class RotatingLogFile {
  #file;
  #maxBytes;
  #keep;
  #fd;
  #size;

  /** @param {string} file @param {{ maxBytes?: number; keep?: number }} [options] */
  constructor(file, options = {}) {
    this.#file = file;
    this.#maxBytes = Math.max(1, options.maxBytes ?? DEFAULT_LOG_MAX_BYTES);
    this.#keep = Math.max(1, options.keep ?? DEFAULT_LOG_KEEP);
    this.#fd = fs.openSync(file, 'a');
    this.#size = fs.fstatSync(this.#fd).size;
  }

  /** @param {Buffer | string} chunk */
  write(chunk) {
    // Output can trail a process's exit: after end(), append without keeping the file open.
    if (this.#fd === undefined) return void fs.appendFileSync(this.#file, chunk);
    let data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    while (data.length > 0) {
      if (this.#size + data.length <= this.#maxBytes) {
        this.#append(data);
        return;
      }
      // Past the limit: finish the current line here, then rotate (a line without an end stays whole).
      const end = data.indexOf(0x0a);
      const head = end === -1 ? data : data.subarray(0, end + 1);
      this.#append(head);
      data = data.subarray(head.length);
      if (end !== -1) this.#rotate();
    }
  }

  end() {
    if (this.#fd === undefined) return;
    fs.closeSync(this.#fd);
    this.#fd = undefined;
  }

  #append(data) {
    fs.writeSync(this.#fd, data);
    this.#size += data.length;
  }

  #rotate() {
    fs.closeSync(this.#fd);
    fs.rmSync(`${this.#file}.${this.#keep}`, { force: true });
    for (let i = this.#keep - 1; i >= 1; i--) {
      if (fs.existsSync(`${this.#file}.${i}`)) fs.renameSync(`${this.#file}.${i}`, `${this.#file}.${i + 1}`);
    }
    fs.renameSync(this.#file, `${this.#file}.1`);
    this.#fd = fs.openSync(this.#file, 'a');
    this.#size = 0;
  }
}
