// How objects are written, from duplicity 0.8's --s3-* options (its boto3 backend): storage class,
// server-side encryption, multipart part size and parallelism.
import type { ServerSideEncryption, StorageClass } from '@aws-sdk/client-s3';
import { UsageError } from '../../errors/lifeboat-error.js';

type Options = ReadonlyMap<string, string | true>;

export interface UploadSettings {
  /** STANDARD is sent as no header at all: some S3-compatible stores refuse the header */
  storageClass(name: string): StorageClass | undefined;
  encryption: { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string; GrantFullControl?: string };
  /** bytes per part; volumes up to this size go up in one PUT */
  partSize: number;
  /** parts in flight (each held in memory) */
  partConcurrency: number;
}

const MiB = 1024 * 1024;
/** S3's smallest part but the last */
const MIN_PART = 5 * MiB;
/** duplicity's default --s3-multipart-chunk-size */
const DEFAULT_PART = 25 * MiB;
const DEFAULT_CONCURRENCY = 2;
/** S3's largest number of parts in one upload */
export const MAX_PARTS = 10_000;

export function uploadSettings(options: Options): UploadSettings {
  const flag = (name: string) => options.get(name) === true;
  const archival: [string, StorageClass][] = [
    ['s3-use-glacier', 'GLACIER'], ['s3-use-glacier-ir', 'GLACIER_IR'], ['s3-use-deep-archive', 'DEEP_ARCHIVE'],
  ];
  const infrequent: [string, StorageClass][] = [
    ['s3-use-rrs', 'REDUCED_REDUNDANCY'], ['s3-use-ia', 'STANDARD_IA'], ['s3-use-onezone-ia', 'ONEZONE_IA'],
  ];
  const chosen = [...infrequent, ...archival].filter(([option]) => flag(option));
  if (chosen.length > 1) {
    throw new UsageError(`only one storage class option may be given, not ${chosen.map(([o]) => `--${o}`).join(' and ')}`,
      'pick one of --s3-use-rrs, --s3-use-ia, --s3-use-onezone-ia, --s3-use-glacier, --s3-use-glacier-ir, --s3-use-deep-archive');
  }
  const [option, storageClass] = chosen[0] ?? [];
  const isArchival = archival.some(([o]) => o === option);

  const encryption: UploadSettings['encryption'] = {};
  if (flag('s3-use-server-side-encryption')) {
    encryption.ServerSideEncryption = 'AES256';
  } else if (flag('s3-use-server-side-kms-encryption')) {
    const keyId = options.get('s3-kms-key-id');
    if (typeof keyId !== 'string') {
      throw new UsageError('--s3-use-server-side-kms-encryption needs --s3-kms-key-id', 'add --s3-kms-key-id with the KMS key\'s id or ARN');
    }
    encryption.ServerSideEncryption = 'aws:kms';
    encryption.SSEKMSKeyId = keyId;
    const grant = options.get('s3-kms-grant');
    if (typeof grant === 'string') encryption.GrantFullControl = grant;
  }

  return {
    // as duplicity: manifests stay readable (not archived), so a restore can plan before thawing volumes
    storageClass: (name) => (storageClass && !(isArchival && name.includes('manifest')) ? storageClass : undefined),
    encryption,
    partSize: wholeNumber(options, 's3-multipart-chunk-size', DEFAULT_PART / MiB, MIN_PART / MiB) * MiB,
    partConcurrency: wholeNumber(options, 's3-multipart-max-procs', DEFAULT_CONCURRENCY, 1),
  };
}

function wholeNumber(options: Options, name: string, fallback: number, minimum: number): number {
  const value = options.get(name);
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < minimum) {
    throw new UsageError(`--${name} must be a whole number of at least ${minimum}, not "${value}"`);
  }
  return n;
}

/** The part size for a source: the chosen size, grown so that the upload fits in S3's 10,000 parts. */
export function partSizeFor(size: number, chosen: number): number {
  return Math.max(chosen, Math.ceil(size / MAX_PARTS));
}
