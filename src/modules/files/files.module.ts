import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeleteFileHandler } from './commands/delete-file.command';
import { MakeFolderHandler } from './commands/make-folder.command';
import { UploadFilesHandler } from './commands/upload-files.command';
import { FileEntity } from './entities/file.entity';
import { FilesSweepJob } from './files-sweep.job';
import { FilesController } from './http/files.controller';
import { GetFileHandler } from './queries/get-file.query';
import { ListFilesHandler } from './queries/list-files.query';
import { BlobRepository } from './repositories/blob.repository';
import { FileRepository } from './repositories/file.repository';
import { StorageUsageRepository } from './repositories/storage-usage.repository';
import { blobStoreProvider, stagingProvider } from './storage/blob-store.provider';
import { Blobs } from './storage/blobs';

const repositories = [BlobRepository, FileRepository, StorageUsageRepository];
const commandHandlers = [UploadFilesHandler, MakeFolderHandler, DeleteFileHandler];
const queryHandlers = [ListFilesHandler, GetFileHandler];

/**
 * Files (README: Files and projects): uploads into content-addressed storage
 * (Blobs over a BlobStore: local disk or S3), folders, downloads.
 */
@Module({
  imports: [TypeOrmModule.forFeature([FileEntity])],
  // Plans: GetPlanQuery (a user's upload and storage limits), through the global query bus.
  controllers: [FilesController],
  providers: [blobStoreProvider, stagingProvider, Blobs, FilesSweepJob, ...repositories, ...commandHandlers, ...queryHandlers],
  exports: [Blobs, FileRepository, StorageUsageRepository],
})
export class FilesModule {}
