import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { AgentServiceClient, Backend, type RegisterRequest, type RegisterResponse } from '@grove/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTeam, startTestApp, uniqueName, type TestApp } from '../testing/test-app';
import { AgentGrpcServer } from './agent-grpc.server';

function register(client: AgentServiceClient, token: string): Promise<RegisterResponse> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  const req: RegisterRequest = { nodeName: uniqueName('tls-node'), gpus: [], engineVersion: 't', backend: Backend.BACKEND_CPU, baseModels: [], labels: {} };
  return new Promise((resolve, reject) => client.register(req, md, { deadline: Date.now() + 5000 }, (e: ServiceError | null, r: RegisterResponse) => (e ? reject(e) : resolve(r))));
}

describe('AgentService over TLS (GROVE_GRPC_TLS_CERT / _KEY)', () => {
  let t: TestApp;
  let dir: string;
  let cert: Buffer;
  let joinToken: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    cert = await readFile(join(dir, 'cert.pem'));
    t = await startTestApp({ GROVE_GRPC_TLS_CERT: join(dir, 'cert.pem'), GROVE_GRPC_TLS_KEY: join(dir, 'key.pem') });
    const team = await createTeam(t);
    joinToken = (await t.http().post('/v1/nodes/join-tokens').set(bearer(team.operator)).send({ name: 'tls' }).expect(201)).body.secret;
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('an agent that trusts the certificate registers; a plaintext client cannot talk to it', async () => {
    const address = `127.0.0.1:${t.app.get(AgentGrpcServer).port}`;
    const secure = new AgentServiceClient(address, credentials.createSsl(cert));
    const plain = new AgentServiceClient(address, credentials.createInsecure());
    try {
      expect((await register(secure, joinToken)).nodeId).toMatch(/^node_/);
      await expect(register(plain, joinToken)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    } finally {
      secure.close();
      plain.close();
    }
  });

  it('refuses a half TLS configuration at boot', async () => {
    await expect(startTestApp({ GROVE_GRPC_TLS_CERT: join(dir, 'cert.pem') })).rejects.toThrow('GROVE_GRPC_TLS_CERT and GROVE_GRPC_TLS_KEY must be set together');
  });
});
