// Credentials as boto3 finds them, read from the backend context's environment (never process.env
// directly): AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); else boto's own
// ~/.boto or /etc/boto.cfg [Credentials]; else the SDK's default chain with AWS_PROFILE
// (~/.aws/credentials, ~/.aws/config, SSO, web identity, container and instance roles).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface CredentialChoice {
  /** undefined: the SDK's default chain */
  credentials?: StaticCredentials;
  profile?: string;
  /** where they came from, for messages (never the values) */
  source: string;
}

export function chooseCredentials(env: NodeJS.ProcessEnv): CredentialChoice {
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (id && secret) {
    return {
      credentials: { accessKeyId: id, secretAccessKey: secret, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) },
      source: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    };
  }
  const profile = env.AWS_PROFILE || undefined;
  const home = env.HOME;
  const awsFiles = [env.AWS_SHARED_CREDENTIALS_FILE ?? (home && join(home, '.aws', 'credentials')), env.AWS_CONFIG_FILE ?? (home && join(home, '.aws', 'config'))];
  // boto3 reads boto's files only after the ~/.aws ones
  if (!profile && !awsFiles.some((f) => f && existsSync(f))) {
    for (const file of [home ? join(home, '.boto') : undefined, '/etc/boto.cfg']) {
      const found = file ? botoCredentials(file) : undefined;
      if (found) return { credentials: found, source: file! };
    }
  }
  return { profile, source: profile ? `the AWS profile "${profile}"` : 'the AWS default credential chain (~/.aws/credentials, roles)' };
}

/** The [Credentials] section of a boto 2 config file, as boto3 also reads it. */
function botoCredentials(file: string): StaticCredentials | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let section = '';
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) { section = header[1].trim(); continue; }
    const pair = /^\s*([A-Za-z_]+)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (section === 'Credentials' && pair) values.set(pair[1].toLowerCase(), pair[2]);
  }
  const accessKeyId = values.get('aws_access_key_id');
  const secretAccessKey = values.get('aws_secret_access_key');
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined;
}
