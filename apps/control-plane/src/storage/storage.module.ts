import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ARTIFACT_STORE } from './artifact-store';
import { FilesystemArtifactStore } from './filesystem-artifact-store';

@Global()
@Module({
  providers: [
    {
      provide: ARTIFACT_STORE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new FilesystemArtifactStore(config.dataDir),
    },
  ],
  exports: [ARTIFACT_STORE],
})
export class StorageModule {}
