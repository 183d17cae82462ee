import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { AgentServiceService } from '@grove/proto';
import { readFileSync } from 'node:fs';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AgentRpcHandlers } from './agent-rpc.handlers';

/** The gRPC endpoint agents call (insecure on loopback by default; TLS when a certificate and key are configured). */
@Injectable()
export class AgentGrpcServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AgentGrpcServer.name);
  private readonly server = new Server();
  private boundPort = 0;

  constructor(
    private readonly handlers: AgentRpcHandlers,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The port actually bound (differs from the configured one when that is 0). */
  get port(): number {
    return this.boundPort;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.server.addService(AgentServiceService, this.handlers.implementation());
    const { host, port, tls } = this.config.grpc;
    const credentials = tls
      ? ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(tls.certPath), private_key: readFileSync(tls.keyPath) }])
      : ServerCredentials.createInsecure();
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:${port}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    this.logger.log(`AgentService listening on ${host}:${this.boundPort}${tls ? ' (TLS)' : ''}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
