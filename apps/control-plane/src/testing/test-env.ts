/** Where the integration tests find the real services `make test` started (scripts/services.sh). */
export function testServiceUrls(): { databaseUrl: string; redisUrl: string } {
  const databaseUrl = process.env['TEST_DATABASE_URL'];
  const redisUrl = process.env['TEST_REDIS_URL'];
  if (!databaseUrl || !redisUrl) {
    throw new Error('TEST_DATABASE_URL and TEST_REDIS_URL must be set: run the tests with `make test`');
  }
  return { databaseUrl, redisUrl };
}
