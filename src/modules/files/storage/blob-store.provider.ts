import { join } from 'node:path';
import type { Provider } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { BLOB_STORE, BlobStore } from './blob-store';
import { LocalBlobStore } from './local-blob-store';
import { S3BlobStore } from './s3-blob-store';
import { Staging } from './staging';

/** The blob store FILES_STORAGE names: DATA_DIR/files (the default) or an S3-compatible bucket. */
export function createBlobStore(config: AppConfig): BlobStore {
  if (config.files.storage !== 's3') return new LocalBlobStore(join(config.dataDir, 'files'));
  const s3 = config.files.s3;
  // readAppConfig requires these three when FILES_STORAGE=s3; checked again so a config built by hand fails clearly.
  if (!s3.bucket || !s3.accessKeyId || !s3.secretAccessKey) {
    throw new Error('FILES_STORAGE=s3 needs S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY');
  }
  return new S3BlobStore({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    forcePathStyle: s3.forcePathStyle,
  });
}

export const blobStoreProvider: Provider = {
  provide: BLOB_STORE,
  inject: [APP_CONFIG],
  useFactory: createBlobStore,
};

/**
 * Temporary files of uploads, always on local disk (also with S3: an upload is
 * hashed and measured before it is stored). Beside the local store, so there
 * finished ones are linked into place, not copied.
 */
export const stagingProvider: Provider = {
  provide: Staging,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) => new Staging(join(config.dataDir, 'files', '.staging')),
};
