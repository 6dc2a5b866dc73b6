// Replacing a file durably: write a temporary file beside it, fsync it, rename it over the file,
// fsync the directory. A crash leaves the old file or the new one, never a mix.
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes `text` to `file` atomically and durably (mode 0600). */
export async function writeFileDurably(file: string, text: string): Promise<void> {
  await writeChunksDurably(file, [Buffer.from(text, 'utf8')]);
}

/**
 * Writes the chunks to `file` atomically and durably (mode 0600), one at a time as they come (a
 * large file is never held whole; each write lets the event loop run). Resolves to the bytes
 * written. On failure — a chunk source that throws included — the temporary file is removed and
 * the old file, if any, stays as it was; rejects with that error.
 */
export async function writeChunksDurably(file: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<number> {
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  const handle = await open(tmp, 'w', 0o600);
  let bytes = 0;
  try {
    try {
      for await (const chunk of chunks) {
        let done = 0;
        while (done < chunk.length) done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
        bytes += chunk.length;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return bytes;
}
