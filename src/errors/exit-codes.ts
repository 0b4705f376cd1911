// The one exit-code table. Numbers are duplicity 0.8.22's (specs/duplicity-format.md §12.5 and
// specs/duply.md §15.7), so scripts written against duplicity can act on ours unchanged.
export const ExitCode = {
  ok: 0,
  /** verify found differences (duplicity also uses 1 as its generic failure) */
  differences: 1,
  /** command-line error, bad time string, or the lock is held by another run */
  usage: 2,
  hostnameMismatch: 3,
  /** interrupted by Ctrl-C (duplicity 0.8.22 uses 4) */
  interrupted: 4,
  manifestMismatch: 5,
  cannotOpenFilelist: 7,
  badUrl: 8,
  badArchiveDir: 9,
  restoreTargetExists: 11,
  verifyDirMissing: 12,
  sourceDirMissing: 13,
  selectionOutsideSource: 14,
  globbingError: 15,
  redundantInclusion: 16,
  noSignatureChain: 17,
  noSignatures: 18,
  restorePathNotFound: 19,
  nothingToRestore: 20,
  /** a volume's hash does not match its manifest; we also use it for any corrupt archive data */
  hashMismatch: 21,
  /** --sign-key given and a volume is not signed by that key */
  unsignedVolume: 22,
  userError: 23,
  /** an unexpected exception: a bug in Lifeboat */
  unexpected: 30,
  gpgFailed: 31,
  connectionFailed: 38,
  sourceMismatch: 42,
  volumeWrongSize: 44,
  encryptionMismatch: 45,
  backendError: 50,
  backendPermissionDenied: 51,
  backendNotFound: 52,
  backendNoSpace: 53,
  /** duply's face: a command of the batch failed (duply never passes duplicity's code on) */
  profileCommandFailed: 1,
  /** duply's face: the profile, its conf or the command line is wrong; nothing was run */
  profileFatal: 255,
} as const;

export type ExitCodeName = keyof typeof ExitCode;
export type ExitCodeNumber = (typeof ExitCode)[ExitCodeName];
