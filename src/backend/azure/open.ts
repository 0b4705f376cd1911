// azure://container as duplicity 0.8.22 takes it (specs/duply.md §15.5): credentials from
// AZURE_CONNECTION_STRING, or AZURE_ACCOUNT_NAME + AZURE_ACCOUNT_KEY (duply's template); the container
// must be a valid DNS-style name and is created on the first put; --azure-blob-tier,
// --azure-max-single-put-size, --azure-max-block-size, --azure-max-connections, --timeout.
import { BlobServiceClient, StorageSharedKeyCredential, type StoragePipelineOptions } from '@azure/storage-blob';
import { BackendError } from '../errors.js';
import { UsageError } from '../../errors/lifeboat-error.js';
import { BadUrlError, type BackendContext } from '../url.js';
import type { BackendOpener } from '../registry.js';
import { AzureBackend, type AzurePutSettings } from './azure-backend.js';

const MiB = 1024 * 1024;
const TIERS = ['Hot', 'Cool', 'Cold', 'Archive'];

// Azure's rule: 3-63 characters, lower-case letters, digits and single dashes, starting and ending alphanumeric
const CONTAINER_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;

export const open: BackendOpener = async (url, context) => {
  const container = url.host;
  if (url.user !== undefined || url.port !== undefined || url.path.replace(/\/+$/, '') !== '') {
    throw new BadUrlError(url.raw, 'an Azure target is only a container name', 'write it as azure://container-name');
  }
  if (!CONTAINER_NAME.test(container)) {
    throw new BadUrlError(url.raw, `"${container}" is not a valid Azure container name`,
      '3 to 63 lower-case letters, digits and single dashes, starting and ending with a letter or digit');
  }
  const settings = putSettings(url.raw, context);
  const timeout = optionalNumber(url.raw, context, 'timeout');
  const pipeline: StoragePipelineOptions = {
    // retries belong to Lifeboat's common backend wrapper, which reopens the source: one try here
    retryOptions: { maxTries: 1, ...(timeout ? { tryTimeoutInMs: timeout * 1000 } : {}) },
  };
  const { service, secrets } = serviceClient(context, pipeline);
  return new AzureBackend(service.getContainerClient(container), settings, `azure://${container}`, secrets);
};

function serviceClient(context: BackendContext, pipeline: StoragePipelineOptions): { service: BlobServiceClient; secrets: string[] } {
  const connection = context.env.AZURE_CONNECTION_STRING;
  if (connection) {
    const secrets = [...connection.matchAll(/(?:AccountKey|SharedAccessSignature)=([^;]+)/gi)].map((m) => m[1]);
    try {
      return { service: BlobServiceClient.fromConnectionString(connection, pipeline), secrets };
    } catch {
      // the SDK's message may quote the string, and so the key: say only that it is unusable
      throw new BackendError('auth', 'AZURE_CONNECTION_STRING is not a usable Azure Storage connection string',
        { hint: 'copy it from the storage account\'s "Access keys" page (DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...)' });
    }
  }
  const name = context.env.AZURE_ACCOUNT_NAME;
  const key = context.env.AZURE_ACCOUNT_KEY;
  if (name && key) {
    let credential: StorageSharedKeyCredential;
    try {
      credential = new StorageSharedKeyCredential(name, key);
    } catch {
      throw new BackendError('auth', 'AZURE_ACCOUNT_KEY is not a usable account key', { hint: 'it is the base64 key from the storage account\'s "Access keys" page' });
    }
    return { service: new BlobServiceClient(`https://${name}.blob.core.windows.net`, credential, pipeline), secrets: [key] };
  }
  throw new BackendError('auth', 'no Azure credentials: AZURE_CONNECTION_STRING is not set',
    { hint: 'export AZURE_CONNECTION_STRING (or AZURE_ACCOUNT_NAME and AZURE_ACCOUNT_KEY)' });
}

function optionalNumber(raw: string, context: BackendContext, option: string): number | undefined {
  const value = context.options.get(option);
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!(n > 0)) throw new UsageError(`--${option} ${String(value)} is not a positive whole number`, `e.g. --${option} ${option === 'timeout' ? 60 : 4194304}`);
  return n;
}

function putSettings(raw: string, context: BackendContext): AzurePutSettings {
  // duplicity's defaults: one request up to 64 MiB, 4 MiB blocks beyond
  const maxSinglePutSize = optionalNumber(raw, context, 'azure-max-single-put-size') ?? 64 * MiB;
  const blockSize = optionalNumber(raw, context, 'azure-max-block-size') ?? 4 * MiB;
  const connections = optionalNumber(raw, context, 'azure-max-connections') ?? 2;
  if (blockSize > 4000 * MiB) throw new UsageError('--azure-max-block-size is over Azure\'s 4000 MiB limit', 'e.g. --azure-max-block-size 4194304');
  if (maxSinglePutSize > 5000 * MiB) throw new UsageError('--azure-max-single-put-size is over Azure\'s 5000 MiB limit', 'e.g. --azure-max-single-put-size 67108864');
  const tierOption = context.options.get('azure-blob-tier');
  let tier: string | undefined;
  if (tierOption !== undefined) {
    tier = TIERS.find((t) => typeof tierOption === 'string' && t.toLowerCase() === tierOption.toLowerCase());
    if (!tier) throw new UsageError(`--azure-blob-tier ${String(tierOption)} is not a tier`, `use one of ${TIERS.join(', ')}`);
  }
  return { maxSinglePutSize, blockSize, connections, tier };
}
