// An independent check of FHIR R5 Bundles, written from the specification, not from
// Pustula's writer: `node check.js FILE...` prints one JSON line per problem and exits 1
// when there is any.
//
// 1. Structure: every element of every resource is an element of the official R5
//    definitions, an array exactly where the element repeats, and a primitive of the right
//    JSON type and format. The element table is the one the `fhirpath` package generates
//    from the R5 StructureDefinitions (fhir-context/r5: path2Type, path2Repeating).
// 2. Invariants and cardinalities from the R5 text, evaluated with fhirpath.js.
// 3. Inside a Bundle: every reference resolves to an entry's fullUrl, and every
//    QuestionnaireResponse answer has the type of its Questionnaire item (and a coded
//    answer is one of the item's answerOptions).
"use strict";

const fs = require("fs");
const fhirpath = require("fhirpath");
const r5 = require("fhirpath/fhir-context/r5");
const types = require("fhirpath/fhir-context/r5/path2Type.json");
const repeating = new Set(require("fhirpath/fhir-context/r5/path2Repeating.json"));
const elsewhere = require("fhirpath/fhir-context/r5/pathsDefinedElsewhere.json");

const PRIMITIVE = {
  boolean: (v) => typeof v === "boolean",
  integer: (v) => Number.isInteger(v),
  positiveInt: (v) => Number.isInteger(v) && v > 0,
  unsignedInt: (v) => Number.isInteger(v) && v >= 0,
  decimal: (v) => typeof v === "number",
  string: (v) => typeof v === "string" && v.length > 0,
  markdown: (v) => typeof v === "string" && v.length > 0,
  code: (v) => typeof v === "string" && /^[^\s]+( [^\s]+)*$/.test(v),
  id: (v) => typeof v === "string" && /^[A-Za-z0-9\-.]{1,64}$/.test(v),
  uri: (v) => typeof v === "string" && /^\S*$/.test(v),
  url: (v) => typeof v === "string" && /^\S*$/.test(v),
  canonical: (v) => typeof v === "string" && /^\S*$/.test(v),
  date: (v) => typeof v === "string" && /^\d{4}(-\d{2}(-\d{2})?)?$/.test(v),
  dateTime: (v) =>
    typeof v === "string" &&
    /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/.test(v),
  instant: (v) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(v),
  // the FHIRPath system types of Element.id, Extension.url and the like
  "System.String": (v) => typeof v === "string" && v.length > 0,
  "System.Boolean": (v) => typeof v === "boolean",
  "System.Integer": (v) => Number.isInteger(v),
  "System.Decimal": (v) => typeof v === "number",
};

function typeOf(path) {
  if (path in types) return [path, types[path]];
  // an element defined elsewhere: Questionnaire.item.item is Questionnaire.item
  const parts = path.split(".");
  for (let i = parts.length - 1; i > 0; i--) {
    const head = parts.slice(0, i).join(".");
    if (head in elsewhere) {
      const moved = [elsewhere[head], ...parts.slice(i)].join(".");
      if (moved in types) return [moved, types[moved]];
    }
  }
  return [path, undefined];
}

function walk(value, path, where, problems) {
  const [defined, type] = typeOf(path);
  if (type === undefined) {
    problems.push({ where, rule: "structure", text: `${path} is not an element of FHIR R5` });
    return;
  }
  const many = repeating.has(defined);
  if (Array.isArray(value) !== many) {
    problems.push({ where, rule: "structure",
      text: `${path} ${many ? "repeats: it must be an array" : "does not repeat: no array"}` });
    return;
  }
  for (const item of many ? value : [value]) {
    if (type in PRIMITIVE) {
      if (!PRIMITIVE[type](item)) {
        problems.push({ where, rule: "structure", text: `${path}: ${JSON.stringify(item)} is not a valid ${type}` });
      }
    } else if (type === "Resource") {
      resource(item, `${where} > ${item.resourceType}/${item.id}`, problems);
    } else if (typeof item !== "object" || item === null) {
      problems.push({ where, rule: "structure", text: `${path} must be an object (${type})` });
    } else {
      const base = type === "BackboneElement" || type === "Element" ? defined : type;
      for (const [key, child] of Object.entries(item)) {
        if (key.startsWith("_")) continue; // a primitive's id and extensions
        walk(child, `${base}.${key}`, where, problems);
      }
    }
  }
}

function resource(res, where, problems) {
  if (typeof res !== "object" || !res.resourceType || !(`${res.resourceType}.id` in types)) {
    problems.push({ where, rule: "structure", text: "not a resource of FHIR R5" });
    return;
  }
  for (const [key, child] of Object.entries(res)) {
    if (key === "resourceType" || key.startsWith("_")) continue;
    walk(child, `${res.resourceType}.${key}`, where, problems);
  }
  for (const [key, expression, text] of INVARIANTS[res.resourceType] || []) {
    invariant(res, key, expression, text, where, problems);
  }
  for (const [key, expression, text] of INVARIANTS.DomainResource) {
    invariant(res, key, expression, text, where, problems);
  }
}

function invariant(res, key, expression, text, where, problems) {
  let result;
  try {
    result = fhirpath.evaluate(res, expression, null, r5);
  } catch (error) {
    problems.push({ where, rule: key, text: `could not evaluate: ${error.message}` });
    return;
  }
  if (!(result.length === 1 && result[0] === true)) {
    problems.push({ where, rule: key, text });
  }
}

const code = (path, values) => [
  `${path}: required binding`,
  `${path.split(".").slice(1).join(".")}.all(${values.map((v) => `$this = '${v}'`).join(" or ")})`,
  `${path} must be one of ${values.join(", ")} (required binding)`,
];
const needed = (path) => [
  `${path}: 1..`,
  `${path.split(".").slice(1).join(".")}.exists()`,
  `${path} is required (minimum cardinality 1)`,
];

// Invariants are quoted from the R5 definitions (key, expression, human text); the
// cardinalities and required bindings are the R5 resource pages' own.
const ELEMENT_RULES = [
  ["ele-1", "descendants().all(hasValue() or children().exists())", "All FHIR elements must have a @value or children"],
  ["ext-1", "descendants().extension.all(extension.exists() != value.exists())", "Must have either extensions or value[x], not both"],
  ["per-1", "descendants().ofType(Period).all(start.hasValue().not() or end.hasValue().not() or (start <= end))", "If present, start SHALL have a lower or equal value than end"],
  ["ref-2", "descendants().ofType(Reference).all(reference.exists() or identifier.exists() or display.exists() or extension.exists())", "At least one of reference, identifier and display SHALL be present (unless an extension is provided)"],
];
const INVARIANTS = {
  DomainResource: [
    ["dom-2", "contained.contained.empty()", "If the resource is contained in another resource, it SHALL NOT contain nested Resources"],
    ...ELEMENT_RULES,
  ],
  Bundle: [
    ["bdl-1", "total.empty() or (type = 'searchset') or (type = 'history')", "total only when a search or history"],
    ["bdl-2", "(type = 'searchset') or entry.search.empty()", "entry.search only when a search"],
    ["bdl-7", "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&iif(resource.meta.versionId.exists(), '/_history/'+resource.meta.versionId, '')).isDistinct()", "FullUrl must be unique in a bundle, or else entries with the same fullUrl must have different meta.versionId (except in history bundles)"],
    ["bdl-3b", "type = 'batch-response' or type = 'transaction-response' or type = 'history' or entry.response.empty()", "entry.response mandatory for batch-response/transaction-response/history, otherwise prohibited"],
    ["bdl-3a", "type = 'batch' or type = 'transaction' or type = 'history' or type = 'subscription-notification' or entry.request.empty()", "entry.request mandatory for batch/transaction/history, allowed for subscription-notification, otherwise prohibited"],
    ["bdl-5", "entry.all(resource.exists() or request.exists() or response.exists())", "must be a resource unless there's a request or response"],
    needed("Bundle.type"),
    code("Bundle.type", ["document", "message", "transaction", "transaction-response", "batch", "batch-response", "history", "searchset", "collection", "subscription-notification"]),
  ],
  Questionnaire: [
    ["que-1a", "descendants().where(item.exists().not() and type = 'group').empty()", "Group items must have nested items when Questionanire is complete"],
    ["que-1c", "descendants().where(type = 'display' and item.exists()).empty()", "Display items cannot have child items"],
    ["que-2", "descendants().linkId.isDistinct()", "The link ids for groups and questions must be unique within the questionnaire"],
    ["que-4", "descendants().where(answerOption.exists() and answerValueSet.exists()).empty()", "A question cannot have both answerOption and answerValueSet"],
    ["que-5", "descendants().where((answerOption.exists() or answerValueSet.exists()) and (type in ('coding' | 'decimal' | 'integer' | 'date' | 'dateTime' | 'time' | 'string' | 'quantity')).not()).empty()", "Only coding, decimal, integer, date, dateTime, time, string or quantity items can have answerOption or answerValueSet"],
    needed("Questionnaire.status"),
    code("Questionnaire.status", ["draft", "active", "retired", "unknown"]),
    ["item: 1..", "descendants().where(linkId.exists() or type.exists()).all(linkId.exists() and type.exists())", "Questionnaire.item.linkId and .type are required"],
    code("Questionnaire.item.type", ["group", "display", "question", "boolean", "decimal", "integer", "date", "dateTime", "time", "string", "text", "url", "coding", "attachment", "reference", "quantity"]),
  ],
  QuestionnaireResponse: [
    ["qrs-1", "descendants().where(linkId.exists()).all((answer.exists() and item.exists()).not())", "Nested item can't be beneath both item and answer"],
    ["qrs-2", "repeat(answer|item).select(item.where(answer.value.exists()).linkId.isDistinct()).allTrue()", "Repeated answers are combined in the answers array of a single item"],
    needed("QuestionnaireResponse.status"),
    code("QuestionnaireResponse.status", ["in-progress", "completed", "amended", "entered-in-error", "stopped"]),
    ["item.linkId: 1..", "item.all(linkId.exists())", "QuestionnaireResponse.item.linkId is required"],
  ],
  Observation: [
    ["obs-6", "dataAbsentReason.empty() or value.empty()", "dataAbsentReason SHALL only be present if Observation.value[x] is not present"],
    ["obs-7", "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()", "If Observation.component.code is the same as Observation.code, then Observation.value SHALL NOT be present"],
    needed("Observation.status"), needed("Observation.code"),
    code("Observation.status", ["registered", "specimen-in-process", "preliminary", "final", "amended", "corrected", "appended", "cancelled", "entered-in-error", "unknown", "cannot-be-obtained"]),
  ],
  AdverseEvent: [
    needed("AdverseEvent.status"), needed("AdverseEvent.actuality"), needed("AdverseEvent.subject"),
    code("AdverseEvent.status", ["in-progress", "completed", "entered-in-error", "unknown"]),
    code("AdverseEvent.actuality", ["actual", "potential"]),
    ["suspectEntity: 1..", "suspectEntity.all(instance.exists())", "AdverseEvent.suspectEntity.instance[x] is required"],
  ],
  MedicationStatement: [
    needed("MedicationStatement.status"), needed("MedicationStatement.medication"), needed("MedicationStatement.subject"),
    code("MedicationStatement.status", ["recorded", "entered-in-error", "draft"]),
  ],
  ResearchSubject: [
    needed("ResearchSubject.status"), needed("ResearchSubject.study"), needed("ResearchSubject.subject"),
    code("ResearchSubject.status", ["draft", "active", "retired", "unknown"]),
  ],
  ResearchStudy: [
    needed("ResearchStudy.status"),
    code("ResearchStudy.status", ["draft", "active", "retired", "unknown"]),
  ],
};

function references(node, out) {
  if (Array.isArray(node)) node.forEach((n) => references(n, out));
  else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "reference" && typeof value === "string") out.push(value);
      else references(value, out);
    }
  }
  return out;
}

const ANSWER = { integer: "valueInteger", decimal: "valueDecimal", coding: "valueCoding",
  string: "valueString", boolean: "valueBoolean", date: "valueDate" };

function bundleRules(bundle, where, problems) {
  const entries = bundle.entry || [];
  const urls = new Set(entries.map((e) => e.fullUrl));
  for (const entry of entries) {
    for (const target of references(entry.resource, [])) {
      if (!urls.has(target)) {
        problems.push({ where: `${where} > ${entry.resource.resourceType}/${entry.resource.id}`,
          rule: "reference", text: `${target} does not resolve to an entry of the Bundle` });
      }
    }
  }
  const questionnaires = Object.fromEntries(entries.map((e) => e.resource)
    .filter((r) => r.resourceType === "Questionnaire").map((q) => [q.url, q]));
  for (const qr of entries.map((e) => e.resource).filter((r) => r.resourceType === "QuestionnaireResponse")) {
    const q = questionnaires[qr.questionnaire];
    const here = `${where} > QuestionnaireResponse/${qr.id}`;
    if (!q) {
      problems.push({ where: here, rule: "questionnaire", text: `${qr.questionnaire} is not in the Bundle` });
      continue;
    }
    const items = Object.fromEntries((q.item || []).map((i) => [i.linkId, i]));
    for (const item of qr.item || []) {
      const defined = items[item.linkId];
      if (!defined) {
        problems.push({ where: here, rule: "questionnaire", text: `item ${item.linkId} is not in ${q.url}` });
        continue;
      }
      for (const answer of item.answer || []) {
        const kind = Object.keys(answer).find((k) => k.startsWith("value"));
        if (kind !== ANSWER[defined.type]) {
          problems.push({ where: here, rule: "answer type",
            text: `item ${item.linkId} is ${defined.type}: answered ${kind}` });
        } else if (defined.answerOption) {
          const allowed = defined.answerOption.map((o) => o.valueCoding && o.valueCoding.code);
          if (!allowed.includes(answer.valueCoding.code)) {
            problems.push({ where: here, rule: "answer option",
              text: `item ${item.linkId}: ${answer.valueCoding.code} is not one of its answer options` });
          }
        }
      }
    }
  }
}

const problems = [];
let resources = 0;
for (const file of process.argv.slice(2)) {
  const bundle = JSON.parse(fs.readFileSync(file, "utf8"));
  resource(bundle, file, problems);
  bundleRules(bundle, file, problems);
  resources += 1 + (bundle.entry || []).length;
}
for (const p of problems) console.log(JSON.stringify(p));
console.error(`${resources} resources checked, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
