/** Absolute path of report/verify.json, defined in astro.config.mjs. */
declare const __VERIFY_REPORT_PATH__: string;
