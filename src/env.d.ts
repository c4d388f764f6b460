/** Absolute path of report/verify.json, defined in astro.config.mjs. */
declare const __VERIFY_REPORT_PATH__: string;

/** Absolute path of the project's root (the checkout; ends with a slash), defined in astro.config.mjs. */
declare const __PROJECT_ROOT__: string;
