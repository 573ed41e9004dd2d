/**
 * The error catalogue and the one error class (DESIGN.md rule 4). Import from here, not from
 * the files, so the layout can change without touching callers. The docs renderer
 * (`docs.ts`) is a build tool and is deliberately not re-exported.
 */
export {
  CODE_FAMILY_EXCEPTIONS,
  ERROR_CATALOGUE,
  ERROR_DOMAIN,
  ERROR_FAMILIES,
  ERROR_REASONS,
  connectHttpStatus,
  grpcStatusName,
  isErrorReason,
  type CatalogueEntry,
  type ErrorCodeString,
  type ErrorFamily,
  type ErrorReason,
} from "./catalogue.js";
export {
  MlsdmError,
  causeChain,
  errorLogFields,
  type ErrorLogFields,
  type FieldViolation,
  type MlsdmErrorOptions,
  type QuotaViolation,
  type ToConnectErrorOptions,
} from "./mlsdm-error.js";
