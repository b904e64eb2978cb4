import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Where environments live: `<DATA_DIR>/environments/<id>`, derived from the id alone. */
@Injectable()
export class EnvironmentDirectories {
  readonly root: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.root = join(config.dataDir, 'environments');
  }

  directoryFor(id: string): string {
    // Ids are ours (uuidv7); this guards the one place a path is built from one.
    if (!UUID.test(id)) throw new Error(`not an environment id: ${id}`);
    return join(this.root, id);
  }

  async prepareRoot(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  async remove(id: string): Promise<void> {
    await rm(this.directoryFor(id), { recursive: true, force: true });
  }
}

export function pythonIn(directory: string): string {
  return join(directory, 'bin', 'python');
}

/** Bytes of every file under a directory (symlinks counted as links, not followed). */
export async function sizeOnDisk(directory: string): Promise<number> {
  let total = 0;
  const pending = [directory];
  while (pending.length) {
    const current = pending.pop()!;
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else total += await lstat(path).then((s) => s.size, () => 0);
    }
  }
  return total;
}
