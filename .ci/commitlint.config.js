// Conventional commits (CICD-008), checked on pull requests by the commitlint job of ci.yml:
//   npm run commitlint -- --from <base> --to <head>     or     echo "feat: x" | npm run commitlint
// The types are the changelog's (release-please); docs/ci-cd.md#commit-messages has the format.
export default {
  extends: ["@commitlint/config-conventional"],
  rules: {
    "type-enum": [
      2,
      "always",
      ["feat", "fix", "docs", "refactor", "perf", "test", "build", "ci", "chore", "revert"],
    ],
    // Long subjects are common here ("feat(security): ... ; ADR 0016 ..."): cap the header, not prose.
    "header-max-length": [2, "always", 200],
    // Subjects name code and products as spelled ("ImportSnapshot is ...", "Admin key RPCs ...").
    "subject-case": [0],
    "body-max-line-length": [0],
    "footer-max-line-length": [0],
  },
};
