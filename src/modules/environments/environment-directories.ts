import { chmod, lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { LOWERCASE_UUID_PATTERN as UUID } from '../../common/ids';

/** Where environments live: `<DATA_DIR>/environments/<id>`, derived from the id alone. */
@Injectable()
export class EnvironmentDirectories {
  readonly root: string;
  private readonly dataDir: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.dataDir = config.dataDir;
    this.root = join(config.dataDir, 'environments');
  }

  directoryFor(id: string): string {
    // Ids are ours (uuidv7); this guards the one place a path is built from one.
    if (!UUID.test(id)) throw new Error(`not an environment id: ${id}`);
    return join(this.root, id);
  }

  /**
   * World-traversable, not listable by others: bubblewrap runs as the
   * sandbox's own uid and must reach `<DATA_DIR>/environments/<id>` to mount
   * it. DATA_DIR gets the same x-only bit (its files keep their own modes;
   * the generated secrets are 0600).
   */
  async prepareRoot(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await chmod(this.root, 0o711);
    const { mode } = await stat(this.dataDir);
    await chmod(this.dataDir, (mode & 0o777) | 0o111);
    // Sandboxes get their own uids only when the service runs as root; then every
    // directory above DATA_DIR must let them pass, or no run could use an environment.
    if (process.getuid?.() !== 0) return;
    for (let dir = dirname(this.dataDir); ; dir = dirname(dir)) {
      if (((await stat(dir)).mode & 0o001) === 0) {
        throw new AppError(
          ErrorCode.SERVICE_UNAVAILABLE,
          `Environments are unavailable: sandboxes run as their own users and cannot pass ${dir} (mode ${((await stat(dir)).mode & 0o777).toString(8)}) on the way to DATA_DIR. Give it o+x, or move DATA_DIR.`,
        );
      }
      if (dir === dirname(dir)) return;
    }
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
