import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { inflateRawSync } from 'node:zlib';

/**
 * Extracts a zip (stored and deflated entries, as serverless packages them) into `directory`, as Lambda
 * extracts a function's code into /var/task. Read from the central directory, so entries written with
 * data descriptors are sized right. Returns the extracted paths.
 */
export function unzip(file: string, directory: string): string[] {
  const zip = readFileSync(file);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${file} is not a zip file`);
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const root = resolve(directory);
  const paths: string[] = [];
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (compressed === 0xffffffff || local === 0xffffffff) throw new Error(`${file}: zip64 is not supported`);
    const target = resolve(root, name);
    if (!target.startsWith(root + sep)) throw new Error(`${file}: entry ${name} lies outside the directory`);
    if (name.endsWith('/')) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    const body = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : null;
    if (!body || body.length !== size) throw new Error(`${file}: cannot extract ${name} (method ${method})`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, body);
    paths.push(join(directory, name));
  }
  return paths;
}
