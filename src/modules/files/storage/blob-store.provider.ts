import { join } from 'node:path';
import type { Provider } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { BLOB_STORE, BlobStore } from './blob-store';
import { LocalBlobStore } from './local-blob-store';
import { Staging } from './staging';

/** The blob store FILES_STORAGE names. */
export const blobStoreProvider: Provider = {
  provide: BLOB_STORE,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig): BlobStore => new LocalBlobStore(join(config.dataDir, 'files')),
};

/** Temporary files of uploads, beside the local store so finished ones are linked, not copied. */
export const stagingProvider: Provider = {
  provide: Staging,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) => new Staging(join(config.dataDir, 'files', '.staging')),
};
