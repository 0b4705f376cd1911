// s3://, s3+http://, boto+s3://, boto3+s3:// targets through the AWS SDK v3.
// Retries: single requests go out once (maxAttempts 1): the retry wrapper owns backoff and
// Retry-After. Multipart parts, which the wrapper cannot retry one by one, get the SDK's standard
// retry (3 attempts, backoff with jitter) on a second client.
import type { BackendOpener } from '../registry.js';
import { parseS3Location } from './location.js';
import { uploadSettings } from './upload-settings.js';
import { chooseCredentials } from './credentials.js';
import { S3Backend } from './s3-backend.js';
import { objectLockFrom } from '../object-lock.js';

const DEFAULT_REGION = 'us-east-1';
const PART_ATTEMPTS = 3;
const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export const open: BackendOpener = async (url, context) => {
  const location = parseS3Location(url, context.options);
  const upload = uploadSettings(context.options);
  const chosen = chooseCredentials(context.env);
  const regionOption = context.options.get('s3-region-name');
  const region = (typeof regionOption === 'string' ? regionOption : undefined)
    ?? location.regionFromHost ?? (context.env.AWS_REGION || context.env.AWS_DEFAULT_REGION || DEFAULT_REGION);

  // the SDK warns on stderr of every run under Node 20, which Lifeboat supports
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { S3Client } = await import('@aws-sdk/client-s3');
  const config = {
    region,
    endpoint: location.endpoint,
    forcePathStyle: location.forcePathStyle,
    // AWS redirects a bucket in another region; follow it rather than fail
    followRegionRedirects: location.endpoint === undefined,
    ...(chosen.credentials ? { credentials: chosen.credentials } : {}),
    ...(chosen.profile ? { profile: chosen.profile } : {}),
    // checksums only where S3 requires them: S3-compatible stores (s3rver, older MinIO and Ceph, B2)
    // refuse the aws-chunked uploads with trailing CRC32 that the SDK otherwise sends
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
    // the SDK would otherwise warn on the console about a failed streamed PUT; our error says it all
    logger: quietLogger,
  };
  const secrets = [chosen.credentials?.secretAccessKey, chosen.credentials?.sessionToken].filter((s): s is string => !!s);
  return new S3Backend({
    displayUrl: url.display,
    location,
    client: new S3Client({ ...config, maxAttempts: 1 }),
    partClient: new S3Client({ ...config, maxAttempts: PART_ATTEMPTS }),
    upload,
    endpointLabel: location.endpoint ?? `AWS S3 (${region})`,
    credentialSource: chosen.source,
    secrets,
    objectLock: objectLockFrom(context.env),
  });
};
