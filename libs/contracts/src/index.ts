export * from './error-codes';
export * from './job-spec';
export * from './job-status';
export * from './priority';
export * from './queues';
export * from './roles';
export * from './dispatch';
