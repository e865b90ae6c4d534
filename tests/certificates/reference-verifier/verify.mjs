// Cadre's credentials checked by verifiers nobody on the project wrote: Digital Bazaar's reference
// stack (@digitalbazaar/vc + data-integrity + eddsa-rdfc-2022-cryptosuite + vc-bitstring-status-list)
// and, alongside it, the Digital Credentials Consortium's @digitalcredentials/verifier-core (the
// verifier inside the Learner Credential Wallet).
//
// Input (stdin, JSON): {"server": "http://127.0.0.1:PORT", "contexts": {url: file}, "schemas": {url: file},
//                       "cases": [{"name": ..., "credential": {...}}, ...]}
// Output (stdout): one line per case and verifier, "<case>  <verifier>  VALID|INVALID  <why>", then a
// last line holding the same as JSON: {"results": [{"case", "verifier", "verdict", "why"}], "refused": [...]}.
//
// Nothing leaves the machine: JSON-LD contexts come from local files (Cadre's bundled copies for
// Digital Bazaar; DCC uses the copies its own packages ship), did:web documents and status lists come
// from the test server on loopback, and every other request is refused and listed in "refused".
import {readFileSync} from 'node:fs';

const input = JSON.parse(readFileSync(0, 'utf8'));
const server = new URL(input.server);
if(!['127.0.0.1', 'localhost', '[::1]'].includes(server.hostname)) {
  throw new Error(`the test server must be on loopback, not ${server.hostname}`);
}
const origin = server.origin;
const readJson = file => JSON.parse(readFileSync(file, 'utf8'));
const contexts = new Map(Object.entries(input.contexts).map(([url, file]) => [url, readJson(file)]));
const schemas = new Map(Object.entries(input.schemas || {}).map(([url, file]) => [url, readJson(file)]));
const refused = [];

// A did:web names host%3Aport; a wallet would fetch https://host:port/.well-known/did.json. The test
// server speaks plain HTTP on loopback, so its own https URLs are mapped to it and nothing else.
const serverHttps = `https://${server.host}`;
function local(url) {
  if(url.startsWith(serverHttps + '/')) {
    return origin + url.slice(serverHttps.length);
  }
  return url.startsWith(origin + '/') ? url : null;
}

const realFetch = globalThis.fetch;
globalThis.fetch = async (resource, init) => {
  const url = typeof resource === 'string' ? resource : (resource.url ?? String(resource));
  const known = contexts.get(url) ?? schemas.get(url);
  if(known) {
    return new Response(JSON.stringify(known), {headers: {'content-type': 'application/ld+json'}});
  }
  const target = local(url);
  if(target) {
    return realFetch(target, typeof resource === 'string' ? init : {method: 'GET', headers: resource.headers});
  }
  refused.push(url);
  throw new TypeError(`offline test: refused to fetch ${url}`);
};

async function getJson(url) {
  const response = await globalThis.fetch(url, {headers: {accept: 'application/json'}});
  if(!response.ok) {
    throw new Error(`${url} answered ${response.status}`);
  }
  return response.json();
}

async function didDocument(did) {
  if(decodeURIComponent(did.slice('did:web:'.length)) !== server.host) {
    throw new Error(`${did} is not the test server's DID`);
  }
  return getJson(`${origin}/.well-known/did.json`);
}

// ---- Digital Bazaar ----------------------------------------------------------------------------
const vc = await import('@digitalbazaar/vc');
const {DataIntegrityProof} = await import('@digitalbazaar/data-integrity');
const {cryptosuite: eddsaRdfc2022} = await import('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
const {checkStatus} = await import('@digitalbazaar/vc-bitstring-status-list');

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if(url.startsWith('did:web:')) {
    const [did] = url.split('#');
    const doc = await didDocument(did);
    if(url === did) {
      return {contextUrl: null, documentUrl: url, document: doc};
    }
    const method = (doc.verificationMethod || []).find(m => m.id === url);
    if(!method) {
      throw new Error(`${did} does not publish ${url}`);
    }
    return {contextUrl: null, documentUrl: url, document: {'@context': doc['@context'], ...method}};
  }
  if(local(url)) {
    return {contextUrl: null, documentUrl: url, document: await getJson(url)};
  }
  refused.push(url);
  throw new Error(`offline test: refused to load ${url}`);
}

function messages(error) {
  if(!error) {
    return [];
  }
  const nested = error.errors || (error.cause ? [error.cause] : []);
  return [error.message, ...nested.flatMap(messages)].filter(Boolean);
}

async function digitalBazaar(credential) {
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  const result = await vc.verifyCredential({credential, suite, documentLoader, checkStatus});
  if(!result.verified) {
    const why = [...messages(result.error), ...messages(result.statusResult?.error)];
    return {verdict: 'INVALID', why: why.join('; ') || 'verification failed'};
  }
  // checkStatus reports a set bit as {status: true} while the verification itself still "verifies":
  // a verifier has to turn that into a failure, and so does this one.
  const set = (result.statusResult?.results || []).filter(r => r.status === true);
  if(set.length) {
    const purposes = set.map(r => r.credentialStatus?.statusPurpose).join(', ');
    return {verdict: 'INVALID', why: `signature good; status bit set (statusPurpose ${purposes})`};
  }
  const checked = (result.statusResult?.results || []).map(r => r.credentialStatus?.statusPurpose);
  return {verdict: 'VALID', why: `signature good; status bit clear (${checked.join(', ') || 'no status'})`};
}

// ---- Digital Credentials Consortium ------------------------------------------------------------
let dcc = null;
let dccUnavailable = null;
try {
  dcc = await import('@digitalcredentials/verifier-core');
} catch(error) {
  dccUnavailable = `verifier-core could not be loaded: ${error.message}`;
}

async function digitalCredentials(credential) {
  if(!dcc) {
    return {verdict: 'UNAVAILABLE', why: dccUnavailable};
  }
  const result = await dcc.verifyCredential({credential, knownDIDRegistries: []});
  if(result.errors?.length) {
    return {verdict: 'INVALID', why: result.errors.map(e => `${e.name}: ${e.message}`).join('; ')};
  }
  // "registered_issuer" says whether the issuer is in a trust registry (none are given here): it
  // is about who the issuer is, not whether this credential holds, so it is reported, not judged.
  const steps = (result.log || []).filter(step => step.id !== 'registered_issuer');
  const failed = steps.filter(step => step.valid !== true);
  const summary = steps.map(step => `${step.id} ${step.valid === true ? 'ok' : 'FAILED'}`).join(', ');
  // DCC also validates against the 1EdTech schema (Cadre's bundled copy is served for its URL); it
  // reports that as additional information, so it is shown here and not judged either.
  const schema = (result.additionalInformation || []).find(entry => entry.id === 'schema_check');
  const schemaNote = Array.isArray(schema?.results) ? schema.results.map(({result: r}) => r.valid ? 'schema ok' :
    `schema: ${(r.errors || []).map(e => `${e.instancePath || '/'} ${e.message}`).slice(0, 2).join('; ')}`) : [];
  return {verdict: failed.length ? 'INVALID' : 'VALID', why: [summary, ...schemaNote].join('; ')};
}

// ---- run ------------------------------------------------------------------------------------------
const results = [];
for(const {name, credential} of input.cases) {
  for(const [verifier, run] of [['digitalbazaar', digitalBazaar], ['dcc', digitalCredentials]]) {
    let outcome;
    try {
      outcome = await run(structuredClone(credential));
    } catch(error) {
      outcome = {verdict: 'INVALID', why: `threw: ${messages(error).join('; ')}`};
    }
    results.push({case: name, verifier, ...outcome});
    console.log(`${name.padEnd(24)} ${verifier.padEnd(14)} ${outcome.verdict.padEnd(8)} ${outcome.why}`);
  }
}
console.log(JSON.stringify({results, refused: [...new Set(refused)]}));
