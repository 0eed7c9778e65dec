//! `f_graph`: the function itself, recording its computation graph as it runs.
//!
//! The primal IR is copied and, after each value of the computation graph (an active float),
//! a statement records it into a `grad::Graph`: its operation, the user's name, its value, and
//! for each active operand the local derivative, built from the same rule table as reverse
//! mode (a call's come from its `_pullback` seeded with 1). A branch output records, in the arm
//! that ran, which value it stands for. The `Graph` runs the backward sweep itself when the
//! function returns, so it shows `[downstream] = [upstream] × [local]` edge by edge.
//!
//! The recording statements are `Effect`s, whose values are rebound by name around their
//! tokens exactly as a user's statement macros are.

use super::activity::Activity;
use super::emit::suffixed_path;
use super::ir::builder::Builder;
use super::ir::{Arm, Block, Branch, Effect, FloatTy, Function, NodeId, Op, Stmt};
use super::rules::{self, Partial, RuleCx};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

/// The recording IR, and which of its nodes are values of the computation graph.
pub struct Recording {
    /// The primal with its recording statements.
    pub f: Function,
    /// The nodes to show as named values.
    pub graph: Vec<bool>,
}

/// Copies `primal`, recording every active value into the `grad::Graph` called `graph`.
pub fn record(primal: &Function, active: &[bool], graph: &Ident) -> Recording {
    let act = Activity::analyze(primal, active);
    let mut f = primal.clone();
    let body = std::mem::take(&mut f.body);
    let mut b = Builder::new(f);
    b.fold = true;
    let mut r = Recorder {
        b,
        act,
        graph: graph.clone(),
    };
    for (i, param) in primal.params.iter().enumerate() {
        if active.get(i).copied().unwrap_or(false) && r.recorded(param.node) {
            let (key, name) = (key(param.node), param.name.as_str());
            let g = &r.graph;
            r.effect(
                quote!(#g.input(#key, #name, __v);),
                vec![("__v".into(), param.node)],
            );
        }
    }
    r.block(&body);
    let output = primal.ret.filter(|&n| r.recorded(n)).map_or_else(
        || quote!(None),
        |n| {
            let k = key(n);
            quote!(Some(#k))
        },
    );
    let g = &r.graph;
    r.effect(quote!(#g.finish(#output);), Vec::new());
    let mut graph: Vec<bool> = (0..primal.nodes.len())
        .map(|i| r.act.active(NodeId(u32::try_from(i).unwrap_or(u32::MAX))))
        .collect();
    let mut f = r.b.finish();
    graph.resize(f.nodes.len(), false);
    f.ret = primal.ret;
    Recording { f, graph }
}

/// The key a value is recorded under: its node id, a compile-time constant (without loops,
/// every node runs at most once per call).
fn key(n: NodeId) -> Literal {
    Literal::u32_unsuffixed(n.0)
}

struct Recorder {
    b: Builder,
    act: Activity,
    graph: Ident,
}

impl Recorder {
    /// Whether `n` is a node of the computation graph.
    fn recorded(&self, n: NodeId) -> bool {
        let f = &self.b.f;
        self.act.active(n) && f.node(n).ty.is_float()
    }

    fn effect(&mut self, tokens: TokenStream, scope: Vec<(String, NodeId)>) {
        self.b.push(Stmt::Effect(Effect {
            tokens,
            scope,
            substitute: true,
        }));
    }

    fn block(&mut self, block: &Block) {
        for stmt in &block.stmts {
            match stmt {
                Stmt::Let(n) => {
                    self.b.push(stmt.clone());
                    if self.recorded(*n) {
                        self.record(*n);
                    }
                }
                Stmt::Branch(branch) => self.branch(branch),
                other => self.b.push(other.clone()),
            }
        }
    }

    fn branch(&mut self, branch: &Branch) {
        let mut arms = Vec::new();
        for arm in &branch.arms {
            self.b.open();
            self.block(&arm.block);
            for (&out, &y) in branch.outputs.iter().zip(&arm.yields) {
                if self.recorded(out) {
                    let target = if self.recorded(y) {
                        let k = key(y);
                        quote!(Some(#k))
                    } else {
                        quote!(None)
                    };
                    let (g, k) = (&self.graph, key(out));
                    self.effect(quote!(#g.alias(#k, #target);), Vec::new());
                }
            }
            arms.push(Arm {
                block: self.b.close(),
                yields: arm.yields.clone(),
            });
        }
        self.b.push(Stmt::Branch(Branch {
            selector: branch.selector.clone(),
            arms,
            outputs: branch.outputs.clone(),
        }));
    }

    /// `graph.op(key, "op", name, value, &[(operand, local), …]);`
    fn record(&mut self, n: NodeId) {
        let node = self.b.f.node(n).clone();
        let g = self.graph.clone();
        let (k, label) = (key(n), label(&self.b.f, node.op));
        let name = node
            .name
            .as_ref()
            .map_or_else(|| quote!(None), |s| quote!(Some(#s)));
        let mut scope = vec![("__v".to_owned(), n)];
        if let Op::Call(callee) = node.op {
            return self.record_call(n, callee, scope);
        }
        let mut operands = Vec::new();
        for (i, &a) in node.args.iter().enumerate() {
            if !self.recorded(a) || !rules::passes_derivative(&self.b.f, n, i) {
                continue;
            }
            let Some(partial) = rules::partial(node.op, i, &mut Cx { r: self, n }) else {
                continue;
            };
            let local = match partial {
                Partial::Times(p) => p,
                Partial::Over(p) => {
                    let float = node.ty.float_ty().unwrap_or(FloatTy::F64);
                    let one = self.b.float(1.0, float, node.span);
                    self.b.add(Op::Div, vec![one, p], node.ty, node.span)
                }
            };
            let name = format!("__p{i}");
            let (ident, ka) = (format_ident!("{}", name), key(a));
            operands.push(quote!((#ka, #ident)));
            scope.push((name, local));
        }
        self.effect(
            quote!(#g.op(#k, #label, #name, __v, &[#(#operands),*]);),
            scope,
        );
    }

    /// A call's local derivatives: its `_pullback` seeded with 1.
    fn record_call(
        &mut self,
        n: NodeId,
        callee: super::ir::SymId,
        mut scope: Vec<(String, NodeId)>,
    ) {
        let node = self.b.f.node(n).clone();
        let g = self.graph.clone();
        let (k, label) = (key(n), label(&self.b.f, node.op));
        let name = node
            .name
            .as_ref()
            .map_or_else(|| quote!(None), |s| quote!(Some(#s)));
        let path = suffixed_path(self.b.f.sym(callee), "_pullback", node.span);
        let float = node.ty.float_ty().unwrap_or(FloatTy::F64);
        let one = self.b.float(1.0, float, node.span);
        scope.push(("__one".into(), one));
        let (mut args, mut buffers, mut decls, mut operands) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, &a) in node.args.iter().enumerate() {
            let arg = format_ident!("__a{i}");
            scope.push((arg.to_string(), a));
            args.push(quote!(#arg));
            let ty = self.b.f.node(a).ty;
            if ty.takes_buffer() {
                let d = format_ident!("__d{i}", span = Span::mixed_site());
                decls.push(quote!(let mut #d = ::core::default::Default::default();));
                buffers.push(quote!(&mut #d));
                if self.recorded(a) {
                    let ka = key(a);
                    operands.push(quote!((#ka, #d)));
                }
            }
        }
        self.effect(
            quote! {{
                #(#decls)*
                #path(#(#args,)* __one, #(#buffers),*);
                #g.op(#k, #label, #name, __v, &[#(#operands),*]);
            }},
            scope,
        );
    }
}

/// How the picture names an operation.
fn label(f: &Function, op: Op) -> String {
    match op {
        Op::Neg => "neg".into(),
        Op::Add => "+".into(),
        Op::Sub => "-".into(),
        Op::Mul => "*".into(),
        Op::Div => "/".into(),
        Op::Rem => "%".into(),
        Op::Math(m) => m.name().into(),
        Op::Cast(s) => format!("as {}", f.sym(s)),
        Op::Call(s) => {
            let path = f.sym(s).to_string().replace(' ', "");
            path.rsplit("::").next().unwrap_or(&path).to_owned()
        }
        Op::Select => "select".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// The rule context of a recorded node: operands are where they are.
struct Cx<'r> {
    r: &'r mut Recorder,
    n: NodeId,
}

impl RuleCx for Cx<'_> {
    fn operand(&mut self, i: usize) -> NodeId {
        self.r.b.f.node(self.n).args[i]
    }
    fn output(&mut self) -> NodeId {
        self.n
    }
    fn builder(&mut self) -> &mut Builder {
        &mut self.r.b
    }
    fn float_ty(&self) -> FloatTy {
        self.r
            .b
            .f
            .node(self.n)
            .ty
            .float_ty()
            .unwrap_or(FloatTy::F64)
    }
    fn span(&self) -> Span {
        self.r.b.f.node(self.n).span
    }
}
