// Where an S3 target lives, from duplicity 0.8's URL forms (specs/duply.md §15.5) and options:
//   boto3+s3://bucket[/prefix]                  AWS, or --s3-endpoint-url
//   s3://host[:port]/bucket[/prefix], boto+s3:// the host is the endpoint (s3:///bucket: AWS)
//   s3+http://bucket[/prefix]                   AWS, or --s3-endpoint-url
// Empty path parts fold away as duplicity folds them: //b//x///y/ is bucket b, prefix "x/y/".
import { BadUrlError, type TargetUrl } from '../url.js';

export interface S3Location {
  bucket: string;
  /** "" or "dir/sub/": prepended to every file name */
  keyPrefix: string;
  /** undefined: AWS's own endpoint for the region */
  endpoint?: string;
  /** bucket in the path (s3rver, MinIO, Ceph) rather than in the host name */
  forcePathStyle: boolean;
  /** from an AWS host name such as s3.eu-central-1.amazonaws.com */
  regionFromHost?: string;
}

type Options = ReadonlyMap<string, string | true>;

/** The schemes whose URL carries an endpoint host before the bucket (duplicity's uses_netloc). */
const hostSchemes = new Set(['s3', 'boto+s3']);

export function parseS3Location(url: TargetUrl, options: Options): S3Location {
  const withHost = hostSchemes.has(url.scheme);
  // decoded per part: keys are stored as text, the URL may carry %20 for a space
  const parts = (withHost ? url.path : url.rest.replace(/^[^@/]*@/, '')).split('/').filter((p) => p !== '').map((p) => decodePart(url, p));
  const bucket = parts.shift();
  if (!bucket) {
    const example = withHost ? `${url.scheme}://s3.example.com/bucket/prefix` : `${url.scheme}://bucket/prefix`;
    throw new BadUrlError(url.raw, 'no bucket name', `write it as ${example}`);
  }
  const keyPrefix = parts.length > 0 ? `${parts.join('/')}/` : '';
  const insecure = options.get('s3-unencrypted-connection') === true;
  const newStyle = options.get('s3-use-new-style') === true;

  const endpointOption = options.get('s3-endpoint-url');
  if (typeof endpointOption === 'string') {
    return { bucket, keyPrefix, endpoint: checkEndpoint(url, endpointOption), forcePathStyle: !newStyle };
  }
  if (withHost && url.host !== '') {
    const regionFromHost = awsRegionOf(url.host);
    if (url.host.endsWith('.amazonaws.com') && !insecure && url.port === undefined) {
      // AWS itself: let the SDK pick the regional endpoint and virtual-host addressing
      return { bucket, keyPrefix, forcePathStyle: false, regionFromHost };
    }
    const endpoint = `${insecure ? 'http' : 'https'}://${url.host}${url.port === undefined ? '' : `:${url.port}`}`;
    // duplicity's boto backend addresses buckets in the path unless --s3-use-new-style
    return { bucket, keyPrefix, endpoint, forcePathStyle: !newStyle, regionFromHost };
  }
  if (insecure) return { bucket, keyPrefix, endpoint: 'http://s3.amazonaws.com', forcePathStyle: !newStyle };
  return { bucket, keyPrefix, forcePathStyle: false };
}

function checkEndpoint(url: TargetUrl, endpoint: string): string {
  let parsed: URL;
  try {
    parsed = new URL(endpoint);
  } catch {
    throw new BadUrlError(url.raw, `--s3-endpoint-url "${endpoint}" is not a URL`, 'e.g. --s3-endpoint-url https://s3.eu-central-003.backblazeb2.com');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BadUrlError(url.raw, `--s3-endpoint-url must be http:// or https://, not ${parsed.protocol}`, 'e.g. --s3-endpoint-url https://minio.example.com:9000');
  }
  if (parsed.username || parsed.password) {
    throw new BadUrlError(url.raw, '--s3-endpoint-url must not carry credentials', 'export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead');
  }
  return endpoint.replace(/\/+$/, '');
}

/** s3.eu-west-1.amazonaws.com, s3-eu-west-1.amazonaws.com, s3.dualstack.eu-west-1.amazonaws.com */
function awsRegionOf(host: string): string | undefined {
  const m = /^s3[.-](?:dualstack\.)?([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com$/.exec(host);
  return m?.[1];
}

function decodePart(url: TargetUrl, part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new BadUrlError(url.raw, 'bad percent-encoding in the bucket or prefix', 'encode special characters as %XX');
  }
}
