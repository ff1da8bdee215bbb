process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
// Tests must never touch a developer's ./data: domain code gets handles from db/testing.ts.
process.env.DATA_DIR ??= `${process.cwd()}/data/test`;
process.env.PUSHER_SECRET ??= "chorus-test-secret-0123456789";
process.env.AUTH_SECRET ??= "chorus-test-auth-secret-0123456789abcdef";
