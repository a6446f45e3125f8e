// The PouchDB peer of bench/link_bench.py: a CouchDB-protocol server (express-pouchdb, in memory),
// and a PouchDB that replicates the week's documents to it. Its npm packages live in the
// bench-only folder bench/.peer/ (git-ignored; never in the product):
//     cd bench/.peer && npm install pouchdb pouchdb-adapter-memory express express-pouchdb
//     node bench/pouch_peer.js serve                  -> prints the port it listens on
//     node bench/pouch_peer.js replicate URL DOCS.json -> prints {"seconds", "docs_written", "tries"}
"use strict";
const path = require("path");
const peer = path.join(__dirname, ".peer", "node_modules");
const need = (name) => require(path.join(peer, name));
const PouchDB = need("pouchdb");
PouchDB.plugin(need("pouchdb-adapter-memory"));
const Memory = PouchDB.defaults({adapter: "memory"});

async function replicate(url, file) {
  const docs = JSON.parse(require("fs").readFileSync(file, "utf8"));
  const local = new Memory("week");
  const loaded = await local.bulkDocs(docs);        // set-up, not timed
  const refused = loaded.filter((r) => r.error);
  if (refused.length) { throw new Error("documents refused: " + JSON.stringify(refused.slice(0, 3))); }
  const target = new PouchDB(url);                  // over HTTP (Memory would make a local copy)
  const started = process.hrtime.bigint();
  let written = 0, tries = 0;
  for (;;) {                                        // a cut ends a one-shot replication: go on from its checkpoint
    tries += 1;
    try {
      const result = await local.replicate.to(target);
      written += result.docs_written;
      break;
    } catch (err) {
      if (tries >= 200) { throw err; }
      await new Promise((done) => setTimeout(done, 500));
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const info = await target.info();
  console.log(JSON.stringify({seconds, docs_written: written, doc_count: info.doc_count, tries}));
}

if (process.argv[2] === "serve") {
  const app = need("express")();
  app.use("/", need("express-pouchdb")(Memory, {mode: "minimumForPouchDB", inMemoryConfig: true}));
  const server = app.listen(0, "127.0.0.1", () => console.log(server.address().port));
} else {
  replicate(process.argv[3], process.argv[4]).then(() => process.exit(0),
                                                   (err) => { console.error(err); process.exit(1); });
}
