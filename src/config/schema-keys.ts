/**
 * Configuration of API key management (SEC-002): the default overlap of a rotation and how
 * often the keys file is checked for changes. The key sources themselves (MLSDM_API_KEY,
 * MLSDM_API_KEYS_FILE, ...) stay in the `auth` section.
 */
import { z } from "zod";
import { integer, key } from "./meta.js";

/** The `keys` section. */
export const keysSection = z
  .strictObject({
    rotationOverlapSeconds: key(integer(0, 604_800, 86_400), {
      env: "MLSDM_KEY_ROTATION_OVERLAP_SECONDS",
      description:
        "Seconds a key rotated through AdminService.RotateApiKey stays valid when the request gives no overlap (0 to 7 days; default 24 h).",
    }),
    filePollMs: key(integer(100, 30_000, 1_000), {
      env: "MLSDM_API_KEYS_FILE_POLL_MS",
      description:
        "Milliseconds between checks of auth.keysFile for changes; a changed file is reloaded at the next check.",
    }),
  })
  .prefault({});
