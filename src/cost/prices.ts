// Published list prices, each with the date it was read and where. Prices change: a conf's
// PRICE_GB_MONTH / PRICE_GB_DOWNLOAD override these, and these need checking now and then.
export interface PriceList {
  name: string;
  /** USD per GB stored for a month */
  gbMonth: number;
  /** USD per GB downloaded (egress), beyond any free allowance */
  gbDownload: number;
  /** the day the price was read, and from where */
  read: string;
  note: string;
}

export const DEFAULT_PRICES: PriceList[] = [
  {
    // $6/TB-month; downloads $0.01/GB (free up to three times the stored amount a month, not counted here)
    name: 'Backblaze B2', gbMonth: 0.006, gbDownload: 0.01,
    read: '2026-11-26, leanopstech.com/blog/backblaze-b2-pricing-2026 ("all prices in USD as of April 2026")',
    note: 'downloads free up to 3x the stored amount per month',
  },
  {
    // S3 Standard, us-east-1, first 50 TB; internet egress first 10 TB/month
    name: 'Amazon S3 Standard (us-east-1)', gbMonth: 0.023, gbDownload: 0.09,
    read: '2026-11-26, same comparison page (S3 Standard $23/TB-month, egress $0.09/GB); needs checking against aws.amazon.com/s3/pricing',
    note: 'other regions and storage classes differ',
  },
  {
    // pay-as-you-go, no egress or API fees; 1 TB minimum charge and 90-day minimum storage
    name: 'Wasabi', gbMonth: 0.00699, gbDownload: 0,
    read: '2026-11-26: wasabi.com/pricing/pricing-faqs still said $5.99/TB-month (2019); $6.99/TB-month is the later list price; needs checking',
    note: '1 TB minimum charge; 90-day minimum storage',
  },
];
