import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { MulterModule } from '@nestjs/platform-express';
import { VALIDATION_QUEUE } from '@grove/contracts';
import { diskStorage } from 'multer';
import { LoggerModule } from 'nestjs-pino';
import { ZodValidationPipe } from 'nestjs-zod';
import { join, resolve } from 'node:path';
import { AgentArtifactsController } from './agent-api/agent-artifacts.controller';
import { AgentArtifactsService } from './agent-api/agent-artifacts.service';
import { AgentGrpcServer } from './agent-api/agent-grpc.server';
import { JoinTokenGuard } from './agent-api/join-token.guard';
import { AgentRpcHandlers } from './agent-api/agent-rpc.handlers';
import { AuthGuard } from './auth/auth.guard';
import { TokensController } from './auth/tokens.controller';
import { TokensRepository } from './auth/tokens.repository';
import { TokensService } from './auth/tokens.service';
import { ApiErrorFilter } from './common/api-error.filter';
import { UploadCleanupInterceptor } from './common/upload-cleanup.interceptor';
import { APP_CONFIG, type AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { redisConnection } from './database/redis-connection';
import { AuditEventsController } from './audit/audit-events.controller';
import { AuditRepository } from './audit/audit.repository';
import { ClusterScheduler } from './scheduling/cluster-scheduler';
import { SchedulingRound } from './scheduling/scheduling-round.service';
import { SchedulingRepository } from './scheduling/scheduling.repository';
import { DispatchRepository } from './dispatch/dispatch.repository';
import { DispatcherService } from './dispatch/dispatcher.service';
import { GpuQueues } from './dispatch/gpu-queues';
import { JobRunsService } from './dispatch/job-runs.service';
import { DatasetsController } from './datasets/datasets.controller';
import { DatasetsRepository } from './datasets/datasets.repository';
import { DatasetsService } from './datasets/datasets.service';
import { HealthController } from './health/health.controller';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { JobEventsModule } from './jobs/job-events.module';
import { JobsController } from './jobs/jobs.controller';
import { JobsRepository } from './jobs/jobs.repository';
import { JobsService } from './jobs/jobs.service';
import { MetricsModule } from './metrics/metrics.module';
import { ModelsController } from './models/models.controller';
import { ModelsRepository } from './models/models.repository';
import { ModelsService } from './models/models.service';
import { JoinTokensRepository } from './nodes/join-tokens.repository';
import { JoinTokensService } from './nodes/join-tokens.service';
import { NodesController } from './nodes/nodes.controller';
import { NodesRepository } from './nodes/nodes.repository';
import { NodesService } from './nodes/nodes.service';
import { StorageModule } from './storage/storage.module';
import { TeamsController } from './teams/teams.controller';
import { TeamsRepository } from './teams/teams.repository';
import { TeamsService } from './teams/teams.service';
import { ValidationProcessor } from './validation/validation.processor';
import { ValidationQueue } from './validation/validation.queue';
import { ValidationReconciler } from './validation/validation.reconciler';
import { ValidationService } from './validation/validation.service';
import { TokenizerThread } from './validation/tokenizer-thread';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  /** The whole control plane for one typed config; the validation worker runs here unless disabled. */
  static forRoot(config: AppConfig): DynamicModule {
    const worker = config.runValidationWorker ? [ValidationProcessor, ValidationReconciler] : [];
    return {
      module: AppModule,
      imports: [
        { module: class ConfigModule {}, global: true, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] },
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
          },
        }),
        DatabaseModule,
        StorageModule,
        IdempotencyModule,
        JobEventsModule,
        WebhooksModule,
        MetricsModule,
        MulterModule.register({
          storage: diskStorage({ destination: join(resolve(config.dataDir), 'tmp') }),
          limits: { fileSize: config.maxUploadBytes, files: 3, fields: 10 },
        }),
        BullModule.forRoot({ connection: redisConnection(config.redisUrl, { maxRetriesPerRequest: null }) }),
        BullModule.registerQueue({ name: VALIDATION_QUEUE }),
      ],
      controllers: [HealthController, TeamsController, TokensController, DatasetsController, ModelsController, JobsController, NodesController, AgentArtifactsController, AuditEventsController],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_PIPE, useClass: ZodValidationPipe },
        { provide: APP_FILTER, useClass: ApiErrorFilter },
        { provide: APP_INTERCEPTOR, useClass: UploadCleanupInterceptor },
        TeamsRepository, TeamsService,
        TokensRepository, TokensService,
        DatasetsRepository, DatasetsService,
        ModelsRepository, ModelsService,
        JobsRepository, JobsService,
        ValidationQueue, ValidationService, TokenizerThread,
        JoinTokensRepository, JoinTokensService, NodesRepository, NodesService, AuditRepository,
        ...(config.grpc.enabled ? [AgentRpcHandlers, AgentGrpcServer, DispatcherService] : []),
        DispatchRepository, GpuQueues, JobRunsService, AgentArtifactsService, JoinTokenGuard,
        ClusterScheduler, SchedulingRepository, SchedulingRound,
        ...worker,
      ],
    };
  }
}
