/**
 * The tasks the site serves, in one place: the model catalogue, the reports, the API client and the pages read
 * their task names from here. Browser-safe.
 */
export const WEB_TASKS = ['classify', 'detect', 'segment', 'dcgan'] as const;
export type WebTask = (typeof WEB_TASKS)[number];

/** The tasks whose API route takes an uploaded image (`POST /api/<task>`); the generator answers `GET /api/generate`. */
export const UPLOAD_TASKS = ['classify', 'detect', 'segment'] as const satisfies readonly WebTask[];
export type UploadTask = (typeof UPLOAD_TASKS)[number];
