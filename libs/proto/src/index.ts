// Generated from proto/ by scripts/gen-proto.sh (ts-proto, grpc-js services); never edit the generated folder.
export * from './generated/grove/agent/v1/agent';
