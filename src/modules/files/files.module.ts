import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FileEntity } from './entities/file.entity';
import { FilesSweepJob } from './files-sweep.job';
import { BlobRepository } from './repositories/blob.repository';
import { FileRepository } from './repositories/file.repository';
import { StorageUsageRepository } from './repositories/storage-usage.repository';
import { blobStoreProvider, stagingProvider } from './storage/blob-store.provider';
import { Blobs } from './storage/blobs';

const repositories = [BlobRepository, FileRepository, StorageUsageRepository];

/**
 * Files (README: Files and projects): uploads into content-addressed storage
 * (Blobs over a BlobStore: local disk or S3), folders, downloads.
 */
@Module({
  imports: [TypeOrmModule.forFeature([FileEntity])],
  controllers: [],
  providers: [blobStoreProvider, stagingProvider, Blobs, FilesSweepJob, ...repositories],
  exports: [Blobs, FileRepository, StorageUsageRepository],
})
export class FilesModule {}
