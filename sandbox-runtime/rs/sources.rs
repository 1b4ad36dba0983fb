//! The runtime's ES modules, embedded at build time, and their concatenation into one module.

/// Every module of the runtime in dependency order (a module only imports earlier ones).
/// `index.js` is last and is the only one whose exports remain exports.
pub const MODULES: &[(&str, &str)] = &[
    ("bytes.js", include_str!("../src/bytes.js")),
    ("emitter.js", include_str!("../src/emitter.js")),
    ("entry.js", include_str!("../src/entry.js")),
    ("sdp.js", include_str!("../src/sdp.js")),
    ("proto.js", include_str!("../src/proto.js")),
    ("keys.js", include_str!("../src/keys.js")),
    ("chunk.js", include_str!("../src/chunk.js")),
    ("queue.js", include_str!("../src/queue.js")),
    ("link.js", include_str!("../src/link.js")),
    ("nego.js", include_str!("../src/nego.js")),
    ("mesh.js", include_str!("../src/mesh.js")),
    ("relay.js", include_str!("../src/relay.js")),
    ("store.js", include_str!("../src/store.js")),
    ("peer.js", include_str!("../src/peer.js")),
    ("verify.js", include_str!("../src/verify.js")),
    ("room.js", include_str!("../src/room.js")),
    ("index.js", include_str!("../src/index.js")),
];

/// The line in `index.js` that the bundler replaces with the embedded relay list.
pub const RELAYS_PLACEHOLDER: &str = "export const RELAYS = [];";

/// Joins the modules into one ES module: our own one-line `import … from './x.js'`
/// statements are dropped (every name is then in one scope; module top-level names are
/// unique, which the minifier's parser enforces) and only `index.js` keeps `export`.
/// `relays_js` is the JavaScript array literal that replaces `RELAYS`.
///
/// With `global`, nothing is exported: the module instead sets `globalThis.lumamesh`
/// to `{ connect, RELAYS }`, for pages that inline the runtime in their own `<script>`.
pub fn concatenate(relays_js: &str, global: bool) -> String {
    let mut out = String::with_capacity(64 * 1024);
    for (name, source) in MODULES {
        let keep_exports = *name == "index.js" && !global;
        for line in source.lines() {
            if line.starts_with("import ") {
                debug_assert!(line.contains(" from './"), "{name}: only local imports");
                continue;
            }
            if line == RELAYS_PLACEHOLDER {
                out.push_str(if global {
                    "const RELAYS = "
                } else {
                    "export const RELAYS = "
                });
                out.push_str(relays_js);
                out.push_str(";\n");
                continue;
            }
            let line = if keep_exports {
                line
            } else {
                line.strip_prefix("export ").unwrap_or(line)
            };
            out.push_str(line);
            out.push('\n');
        }
    }
    if global {
        out.push_str("globalThis.lumamesh = { connect, RELAYS };\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_file_is_listed_once_in_dependency_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".js"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = MODULES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
        for (i, (name, source)) in MODULES.iter().enumerate() {
            for line in source.lines().filter(|l| l.starts_with("import ")) {
                let dep = line.rsplit("'./").next().unwrap().trim_end_matches("';");
                let pos = MODULES.iter().position(|(n, _)| *n == dep);
                assert!(
                    pos.is_some_and(|p| p < i),
                    "{name} imports {dep}, which is not listed before it"
                );
                assert!(line.ends_with("';"), "{name}: imports must fit on one line");
                // Concatenation drops imports, so `a as b` would leave `b` undefined.
                assert!(
                    !line.contains(" as "),
                    "{name}: no renaming imports (the bundle has one scope): {line}"
                );
            }
        }
        assert!(MODULES.last().unwrap().1.contains(RELAYS_PLACEHOLDER));
    }
}
