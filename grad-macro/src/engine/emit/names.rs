//! Names in emitted code: the user's own where there is one, `t<N>` for temporaries,
//! `d_<name>` for adjoints, `t_<name>` for tangents; unique within the generated function, so
//! emitted code never relies on shadowing and never captures a name the user's code uses.

use crate::engine::ir::{Block, Function, NodeId, Stmt, VarId, VarKind};
use proc_macro2::{Ident, Span};
use std::collections::{HashMap, HashSet};

/// An identifier for `name`, raw (`r#type`) where the name is a keyword.
pub fn ident(name: &str, span: Span) -> Ident {
    if syn::parse_str::<Ident>(name).is_ok() {
        Ident::new(name, span)
    } else {
        Ident::new_raw(name, span)
    }
}

/// The name of every bound node and every variable.
pub struct Names {
    nodes: HashMap<NodeId, Ident>,
    vars: HashMap<VarId, Ident>,
    taken: HashSet<String>,
    /// The next suffix to try for each hint already given out, so that the thousandth `i`
    /// does not try `i_1` … `i_999` first.
    suffixes: HashMap<String, usize>,
    temps: usize,
    out: Option<NodeId>,
}

impl Names {
    /// Names for `f`, avoiding every identifier in `reserved` (all identifiers of the user's
    /// function, so a generated name never shadows one of the user's items or variables).
    /// `bound` says which nodes get a `let`; `out` is the node to call `out` if unnamed.
    pub fn assign(
        f: &Function,
        bound: &dyn Fn(NodeId) -> bool,
        reserved: &HashSet<String>,
        out: Option<NodeId>,
    ) -> Names {
        // The user's own bindings are re-emitted by us, so their names are free to give out
        // (uniquely); every other identifier (items, constants, callees) must stay untouched.
        let rebound: HashSet<&str> = f
            .nodes
            .iter()
            .filter_map(|n| n.name.as_deref())
            .chain(
                f.vars
                    .iter()
                    .filter(|v| v.of.is_none())
                    .map(|v| v.name.as_str()),
            )
            .collect();
        let mut names = Names {
            nodes: HashMap::new(),
            vars: HashMap::new(),
            taken: reserved
                .iter()
                .filter(|r| !rebound.contains(r.as_str()))
                .cloned()
                .collect(),
            suffixes: HashMap::new(),
            temps: 0,
            out,
        };
        // Parameters keep their names.
        for p in &f.params {
            names.taken.insert(p.name.clone());
            names
                .nodes
                .insert(p.node, ident(&p.name, f.node(p.node).span));
        }
        // Parameters of the generated function come next, so they get the plain names.
        for (i, var) in f.vars.iter().enumerate() {
            if matches!(var.kind, VarKind::Param | VarKind::Buffer) {
                let id = VarId(u32::try_from(i).unwrap_or(u32::MAX));
                names.var(f, id);
            }
        }
        names.block(f, &f.body, bound, out);
        names.out = out;
        names
    }

    fn block(
        &mut self,
        f: &Function,
        block: &Block,
        bound: &dyn Fn(NodeId) -> bool,
        out: Option<NodeId>,
    ) {
        for stmt in &block.stmts {
            match stmt {
                Stmt::Let(n) if bound(*n) => self.node(f, *n, out),
                Stmt::Branch(branch) => {
                    for arm in &branch.arms {
                        self.block(f, &arm.block, bound, out);
                    }
                    for &o in &branch.outputs {
                        self.node(f, o, out);
                    }
                }
                Stmt::Loop(l) => {
                    if let Some(i) = l.index {
                        self.node(f, i, out);
                    }
                    for nested in stmt.blocks() {
                        self.block(f, nested, bound, out);
                    }
                }
                Stmt::Decl(v, _) => {
                    self.var(f, *v);
                }
                _ => {}
            }
        }
    }

    fn node(&mut self, f: &Function, n: NodeId, out: Option<NodeId>) {
        if self.nodes.contains_key(&n) {
            return;
        }
        let node = f.node(n);
        let hint = match &node.name {
            Some(name) => name.clone(),
            None if Some(n) == out => "out".to_owned(),
            None => String::new(),
        };
        // The user's values carry the user's span, hence the user's hygiene: the user's own
        // tokens kept in emitted code (statement macros) can name them.
        let (name, span) = match &node.name {
            Some(_) => (self.fresh(&hint), node.span),
            None if hint.is_empty() => (self.temp(), Span::call_site()),
            None => (self.fresh(&hint), Span::call_site()),
        };
        self.nodes.insert(n, ident(&name, span));
    }

    fn var(&mut self, f: &Function, v: VarId) -> Ident {
        if let Some(name) = self.vars.get(&v) {
            return name.clone();
        }
        let var = f.var(v);
        // An adjoint or tangent is its prefix (`d_`, `t_`) and the name of its node.
        let hint = match var.of {
            Some(n) => {
                // A node that is not printed (dead in this function) is still named, so that
                // its adjoint is called the same in `_grad` and `_pullback`.
                self.node(f, n, self.out);
                let of = self.nodes.get(&n).map(syn::ext::IdentExt::unraw);
                format!(
                    "{}{}",
                    var.name,
                    of.map(|i| i.to_string()).unwrap_or_default()
                )
            }
            None => var.name.clone(),
        };
        let name = ident(&self.fresh(&hint), Span::call_site());
        self.vars.insert(v, name.clone());
        name
    }

    fn temp(&mut self) -> String {
        loop {
            let name = format!("t{}", self.temps);
            self.temps += 1;
            if self.taken.insert(name.clone()) {
                return name;
            }
        }
    }

    fn fresh(&mut self, hint: &str) -> String {
        if self.taken.insert(hint.to_owned()) {
            return hint.to_owned();
        }
        let k = self.suffixes.entry(hint.to_owned()).or_insert(1);
        loop {
            let name = format!("{hint}_{k}");
            *k += 1;
            if self.taken.insert(name.clone()) {
                return name;
            }
        }
    }

    /// The name of a bound node.
    pub fn of_node(&self, n: NodeId) -> Option<&Ident> {
        self.nodes.get(&n)
    }

    /// The name of a variable.
    pub fn of_var(&self, v: VarId) -> Ident {
        self.vars
            .get(&v)
            .cloned()
            .unwrap_or_else(|| ident("__grad_unnamed", Span::call_site()))
    }
}
