// Validates Backstage entities with Backstage's own code (@backstage/catalog-model): the
// policies its catalog applies to every entity it ingests, then the validator of the
// entity's kind. Reads one JSON entity per stdin line; writes one JSON result per line:
// {"ref": "...", "ok": true} or {"ref": "...", "ok": false, "error": "..."}.
const readline = require('node:readline');
const model = require('@backstage/catalog-model');

const policy = model.EntityPolicies.allOf([
  new model.DefaultNamespaceEntityPolicy(),
  new model.NoForeignRootFieldsEntityPolicy(),
  new model.FieldFormatEntityPolicy(),
  new model.SchemaValidEntityPolicy(),
]);
const kindValidators = [
  model.apiEntityV1alpha1Validator,
  model.componentEntityV1alpha1Validator,
  model.domainEntityV1alpha1Validator,
  model.groupEntityV1alpha1Validator,
  model.locationEntityV1alpha1Validator,
  model.resourceEntityV1alpha1Validator,
  model.systemEntityV1alpha1Validator,
  model.userEntityV1alpha1Validator,
];

// Backstage's placeholder processor replaces $text/$json/$yaml with the content it reads
// before any validator runs; nothing is fetched here, so each stands for content of its type.
function resolvePlaceholders(node) {
  if (Array.isArray(node)) return node.map(resolvePlaceholders);
  if (node === null || typeof node !== 'object') return node;
  const keys = Object.keys(node);
  if (keys.length === 1 && typeof node[keys[0]] === 'string') {
    if (keys[0] === '$text') return `content of ${node.$text}`;
    if (keys[0] === '$json' || keys[0] === '$yaml') return {};
  }
  return Object.fromEntries(keys.map((key) => [key, resolvePlaceholders(node[key])]));
}

function refOf(entity) {
  const metadata = (entity && entity.metadata) || {};
  return `${entity && entity.kind}:${metadata.namespace || 'default'}/${metadata.name}`;
}

async function validate(entity) {
  const checked = await policy.enforce(resolvePlaceholders(entity));
  if (!checked) return 'rejected by the entity policies';
  let known = false;
  for (const validator of kindValidators) {
    // A kind validator answers false for another kind and throws for a bad entity of its own.
    if (await validator.check(checked)) known = true;
  }
  return known ? null : `no validator accepts kind ${entity.kind} (${entity.apiVersion})`;
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const entity = JSON.parse(line);
    let error;
    try {
      error = await validate(entity);
    } catch (exc) {
      error = String((exc && exc.message) || exc);
    }
    const result = error ? { ref: refOf(entity), ok: false, error } : { ref: refOf(entity), ok: true };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}

main().catch((exc) => {
  process.stderr.write(`${exc && exc.stack ? exc.stack : exc}\n`);
  process.exit(2);
});
