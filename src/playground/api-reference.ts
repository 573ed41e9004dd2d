/**
 * The API reference page of the playground (`api.html`): a static HTML rendering of
 * docs/api/openapi.yaml, one section per service and RPC with its role, description and the
 * fields of its request and response messages. No script and no inline style, so it works under
 * the listener's `Content-Security-Policy: default-src 'self'` (Redoc's page would need both).
 */
interface SchemaObject {
  readonly $ref?: string;
  readonly type?: string;
  readonly format?: string;
  readonly description?: string;
  readonly items?: SchemaObject;
  readonly enum?: readonly string[];
  readonly properties?: Record<string, SchemaObject>;
  readonly additionalProperties?: SchemaObject | boolean;
}

interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly "x-mlsdm-role"?: string;
  readonly "x-mlsdm-streaming"?: string;
  readonly requestBody: { content: Record<string, { schema: SchemaObject }> };
  readonly responses: Record<string, { content?: Record<string, { schema: SchemaObject }> }>;
}

/** The part of an OpenAPI document the page reads. */
export interface OpenApiDocument {
  readonly info: { title: string; version: string; description?: string };
  readonly tags: readonly { name: string; description?: string }[];
  readonly paths: Record<string, { post: Operation }>;
  readonly components: { schemas: Record<string, SchemaObject> };
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Comment text as HTML: blank-line paragraphs, indented blocks (examples) as <pre>. */
function prose(text: string | undefined): string {
  if (!text) return "";
  return text
    .split(/\n\s*\n/)
    .map((block) =>
      /^ {2}/.test(block)
        ? `<pre>${escape(block.replace(/^ {2}/gm, ""))}</pre>`
        : `<p>${escape(block).replace(/`([^`]+)`/g, "<code>$1</code>")}</p>`,
    )
    .join("\n");
}

function refName(ref: string): string {
  return ref.replace("#/components/schemas/", "");
}

function anchor(name: string): string {
  return `schema-${name.replace(/[^A-Za-z0-9_.-]/g, "-")}`;
}

function typeOf(schema: SchemaObject): string {
  if (schema.$ref) {
    const name = refName(schema.$ref);
    return `<a href="#${anchor(name)}">${escape(name)}</a>`;
  }
  if (schema.type === "array" && schema.items) return `${typeOf(schema.items)}[]`;
  if (schema.type === "object" && typeof schema.additionalProperties === "object")
    return `map&lt;string, ${typeOf(schema.additionalProperties)}&gt;`;
  return escape([schema.type ?? "any", schema.format].filter((part) => part).join(" "));
}

function schemaSection(name: string, schema: SchemaObject): string {
  const rows = Object.entries(schema.properties ?? {}).map(
    ([field, value]) =>
      `<tr><td><code>${escape(field)}</code></td><td>${typeOf(value)}</td><td>${escape(value.description ?? "")}</td></tr>`,
  );
  const body = schema.enum
    ? `<p>${schema.enum.map((value) => `<code>${escape(value)}</code>`).join(" ")}</p>`
    : rows.length > 0
      ? `<table><tr><th>Field</th><th>Type</th><th>Meaning</th></tr>${rows.join("")}</table>`
      : `<p>${typeOf(schema)}</p>`;
  return `<section class="card operation" id="${anchor(name)}"><h3>${escape(name)}</h3>${prose(
    schema.enum ? schema.description?.split("\nValues")[0] : schema.description,
  )}${body}</section>`;
}

function operationSection(path: string, op: Operation): string {
  const request = Object.values(op.requestBody.content)[0]?.schema;
  const response = Object.values(op.responses["200"]?.content ?? {})[0]?.schema;
  const role = op["x-mlsdm-role"] ? `<span class="role">role: ${escape(op["x-mlsdm-role"])}</span>` : "";
  const streaming = op["x-mlsdm-streaming"]
    ? ` <span class="role">${escape(op["x-mlsdm-streaming"].replace("_", " "))}</span>`
    : "";
  return `<section class="card operation" id="${escape(op.operationId)}">
<h3><code>POST ${escape(path)}</code> ${role}${streaming}</h3>
${prose(op.description)}
<p>Request: ${request ? typeOf(request) : "–"} · Response: ${response ? typeOf(response) : "–"}</p>
</section>`;
}

/** The whole page. */
export function renderApiReference(doc: OpenApiDocument): string {
  const byTag = doc.tags.map((tag) => {
    const operations = Object.entries(doc.paths)
      .filter(([, item]) => item.post.tags.includes(tag.name))
      .map(([path, item]) => operationSection(path, item.post));
    return `<h2 id="${escape(tag.name)}">${escape(tag.name)}</h2>${prose(tag.description)}${operations.join("\n")}`;
  });
  const schemas = Object.entries(doc.components.schemas).map(([name, schema]) => schemaSection(name, schema));
  const toc = doc.tags.map((tag) => `<a href="#${escape(tag.name)}">${escape(tag.name)}</a>`).join(" ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>${escape(doc.info.title)} ${escape(doc.info.version)}</title>
<link rel="stylesheet" href="style.css" />
</head>
<body>
<header><h1>${escape(doc.info.title)} ${escape(doc.info.version)}</h1><nav><a href="./">playground</a> <a href="openapi.yaml">openapi.yaml</a> ${toc} <a href="#messages">messages</a></nav></header>
<main class="reference">
${prose(doc.info.description)}
${byTag.join("\n")}
<h2 id="messages">Messages and enums</h2>
${schemas.join("\n")}
</main>
</body>
</html>
`;
}
