// The release this build is: reported by sys/seal-status, sys/health, sys/ha-status and `coffer version`.
export const COFFER_VERSION = '0.1.0';
