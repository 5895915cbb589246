//! `dlf calc moe`: routing, balancing losses, capacity and dispatch against an independent numpy implementation,
//! the parameter counts against a direct count, and the error messages a user sees.
//!
//! The expected numbers were printed by this numpy (2.x, float64) script, written from the papers and the
//! reference code the lesson cites (Hugging Face's `load_balancing_loss_func` for `all-choices`, Mesh-TF's
//! `_top_2_gating` for `first-choice` and slot-major dispatch, DeepSpeed's `topkgating` for
//! `all-choices-over-k`, V-MoE's `_get_top_experts_per_item_common` for batch priority routing, DeepSpeed's
//! `_capacity` and V-MoE's `compute_capacity` for the roundings, DeepSeek-V3's `Gate` for sigmoid scores with
//! a selection-only bias and a routed scale). numpy's stable argsort of −s breaks ties towards the lower index,
//! as the engine does.
//!
//   import numpy as np, json, math
//   def route(x, k, score="softmax", bias=None, scale=1.0):
//       x = np.asarray(x, float); T, E = x.shape
//       if score == "softmax":
//           s = np.exp(x - x.max(1, keepdims=True)); s /= s.sum(1, keepdims=True); p = s
//       else:
//           s = 1/(1+np.exp(-x)); p = s / s.sum(1, keepdims=True)
//       sel = s + (np.zeros(E) if bias is None else np.asarray(bias))
//       chosen = np.argsort(-sel, axis=1, kind="stable")[:, :k]
//       g = np.take_along_axis(s, chosen, 1)
//       none = scale * g; renorm = scale * g / g.sum(1, keepdims=True)
//       first = np.bincount(chosen[:, 0], minlength=E); allc = np.bincount(chosen.ravel(), minlength=E)
//       P = p.mean(0)
//       f = {"first-choice": first/T, "all-choices": allc/T, "all-choices-over-k": allc/(k*T)}
//       aux = {c: E*float((f[c]*P).sum()) for c in f}
//       m = x.max(1); lse = m + np.log(np.exp(x - m[:, None]).sum(1)); z = float((lse**2).mean())
//       return dict(s=s, p=p, chosen=chosen, none=none, renorm=renorm, first=first, allc=allc, f=f, P=P, aux=aux, z=z)
//   def dispatch(chosen, gates_none, C, bpr):
//       T, k = chosen.shape; E_load = {}
//       order_t = np.argsort(-gates_none[:, 0], kind="stable") if bpr else np.arange(T)
//       kept = np.zeros((T, k), bool); slot = np.zeros((T, k), int); load = {}; demand = {}
//       for j in range(k):
//           for t in order_t:
//               e = int(chosen[t, j]); demand[e] = demand.get(e, 0) + 1
//               if load.get(e, 0) < C:
//                   kept[t, j] = True; slot[t, j] = load.get(e, 0); load[e] = load.get(e, 0) + 1
//       return kept, slot, demand, load
//   def cap(T, E, k, cf):
//       exact = (k*T)/E*cf
//       return exact, math.floor(exact), round(exact), math.ceil(exact)
//   out = {}
//   X1 = [[0.3, -1.2, 2.0, 0.5], [1.5, 1.4, -0.3, 0.0], [-0.7, 0.2, 0.1, 2.2], [0.0, 0.0, 0.9, -2.0], [2.5, -0.5, 0.4, 0.3], [0.1, 1.9, 1.8, -1.0]]
//   r = route(X1, 2); C = cap(6, 4, 2, 1.0)
//   out["p1"] = dict(scores=r["s"].ravel().tolist(), chosen=r["chosen"].ravel().tolist(), none=r["none"].ravel().tolist(), renorm=r["renorm"].ravel().tolist(), P=r["P"].tolist(), f={c: v.tolist() for c, v in r["f"].items()}, aux=r["aux"], z=r["z"], cap=C)
//   for bpr in (False, True):
//       kept, slot, demand, load = dispatch(r["chosen"], r["none"], C[3], bpr)
//       out["p1"]["bpr" if bpr else "inorder"] = dict(kept=kept.ravel().astype(int).tolist(), slot=(slot*kept).ravel().tolist(), dropped=int((~kept).sum()), full=int((~kept).all(1).sum()))
//   r = route(X1, 2, "sigmoid", bias=[0.0, 0.3, -0.2, 0.1], scale=2.5); C = cap(6, 4, 2, 0.75)
//   out["p2"] = dict(scores=r["s"].ravel().tolist(), probs=r["p"].ravel().tolist(), chosen=r["chosen"].ravel().tolist(), none=r["none"].ravel().tolist(), renorm=r["renorm"].ravel().tolist(), P=r["P"].tolist(), aux=r["aux"], z=r["z"], cap=C)
//   for bpr in (False, True):
//       kept, slot, demand, load = dispatch(r["chosen"], r["none"], C[3], bpr)
//       out["p2"]["bpr" if bpr else "inorder"] = dict(kept=kept.ravel().astype(int).tolist(), dropped=int((~kept).sum()))
//   X3 = [[2.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [3.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [4.0, 0.0, 0.0, 0.0]]
//   r = route(X3, 1); C = cap(8, 4, 1, 1.0)
//   out["p3"] = dict(chosen=r["chosen"].ravel().tolist(), aux=r["aux"], z=r["z"], cap=C)
//   for bpr in (False, True):
//       kept, slot, demand, load = dispatch(r["chosen"], r["none"], C[3], bpr)
//       out["p3"]["bpr" if bpr else "inorder"] = dict(kept=kept.ravel().astype(int).tolist(), dropped=int((~kept).sum()))
//   # rounding: ties to even (Python round) and the order (kT/E)*cf
//   out["caps"] = [cap(20, 8, 1, 1.0), cap(100, 8, 2, 1.25), cap(4096, 64, 2, 1.25), cap(10, 11, 1, 1.1)]
//   # Mixtral 8x7B from its config: q,o: d x 32*128; k,v: d x 8*128; experts 3*d*14336; router d*8; 2 RMSNorm per layer; final norm; untied
//   d, L, ff, V, E, k = 4096, 32, 14336, 32000, 8, 2
//   attn = 2*d*32*128 + 2*d*8*128
//   lay = attn + 2*d + d*E
//   out["mixtral"] = dict(total=L*(lay + E*3*d*ff) + 2*V*d + d, active=L*(lay + k*3*d*ff) + 2*V*d + d)
//   # a config: d 1024, 8 layers, 16 heads, 4 kv heads, expert 2816, 16 experts top-2, 1 shared, first layer dense 4096, vocab 50000, tied
//   d, L, V = 1024, 8, 50000
//   attn = 2*d*16*64 + 2*d*4*64 + 2*d
//   dense = 3*d*4096; ex = 3*d*2816
//   moe_tot = attn + d*16 + (16+1)*ex; moe_act = attn + d*16 + (2+1)*ex
//   out["config"] = dict(total=(attn+dense) + 7*moe_tot + V*d + d, active=(attn+dense) + 7*moe_act + V*d + d)
//   print(json.dumps(out))

use serde_json::Value;

use super::{
    answer as run_answer, assert_within, error as run_error, flat, has_null, help, list, run, Rng,
};

fn answer(args: &[&str], stdin: &str) -> Value {
    let mut all = vec!["moe"];
    all.extend_from_slice(args);
    run_answer(&all, stdin)
}

fn error(args: &[&str], stdin: &str) -> String {
    let mut all = vec!["moe"];
    all.extend_from_slice(args);
    run_error(&all, stdin)
}

const X1: &str = "[[0.3,-1.2,2.0,0.5],[1.5,1.4,-0.3,0.0],[-0.7,0.2,0.1,2.2],[0.0,0.0,0.9,-2.0],[2.5,-0.5,0.4,0.3],[0.1,1.9,1.8,-1.0]]";
const X3: &str =
    "[[2,0,0,0],[1,0,0,0],[3,0,0,0],[0,1,0,0],[0.5,0,0,0],[0,0,0,0],[0,0,2,0],[4,0,0,0]]";

fn kept(v: &Value) -> Vec<u8> {
    v.as_array()
        .expect("rows")
        .iter()
        .flat_map(|r| {
            r.as_array()
                .expect("a row")
                .iter()
                .map(|b| u8::from(b.as_bool().expect("a flag")))
        })
        .collect()
}

fn ints(v: &Value) -> Vec<f64> {
    flat(v)
}

#[test]
fn softmax_top2_routing_losses_capacity_and_dispatch_match_numpy() {
    let a = answer(
        &[],
        &format!(r#"{{"logits":{X1},"k":2,"capacity_factor":1.0}}"#),
    );
    assert_within(
        &a["router"]["scores"],
        &[
            0.1262868581907832,
            0.028178406892751494,
            0.6912876180028604,
            0.15424711691360482,
            0.43605922584618234,
            0.39456270402541893,
            0.07208010523113964,
            0.09729796489725899,
            0.0419123965870883,
            0.10308786104164636,
            0.09327775401577305,
            0.7617219883554923,
            0.2176307741623116,
            0.2176307741623116,
            0.5352853292131171,
            0.029453122462259732,
            0.7793948849140717,
            0.03880378642078034,
            0.09544191380522112,
            0.08635941485992688,
            0.07778187292522655,
            0.4705529103193867,
            0.42577388042270037,
            0.02589133633268647,
        ],
        1e-15,
        "scores",
    );
    assert_eq!(
        ints(&a["router"]["chosen"]),
        &[2.0, 3.0, 0.0, 1.0, 3.0, 1.0, 2.0, 0.0, 0.0, 2.0, 1.0, 2.0]
    );
    assert_within(
        &a["router"]["gates"]["none"],
        &[
            0.6912876180028604,
            0.15424711691360482,
            0.43605922584618234,
            0.39456270402541893,
            0.7617219883554923,
            0.10308786104164636,
            0.5352853292131171,
            0.2176307741623116,
            0.7793948849140717,
            0.09544191380522112,
            0.4705529103193867,
            0.42577388042270037,
        ],
        1e-15,
        "gates none",
    );
    assert_within(
        &a["router"]["gates"]["renormalize"],
        &[
            0.8175744761936437,
            0.18242552380635632,
            0.52497918747894,
            0.47502081252105993,
            0.8807970779778824,
            0.11920292202211756,
            0.710949502625004,
            0.28905049737499605,
            0.8909031788043871,
            0.10909682119561293,
            0.5249791874789399,
            0.47502081252106004,
        ],
        1e-15,
        "gates renormalize",
    );
    assert_within(
        &a["load"]["P"],
        &[
            0.2798443354376106,
            0.20880274047704925,
            0.31885776678180194,
            0.19249515730353825,
        ],
        1e-15,
        "P",
    );
    assert_within(
        &a["load"]["f"]["first-choice"],
        &[
            0.3333333333333333,
            0.16666666666666666,
            0.3333333333333333,
            0.16666666666666666,
        ],
        0.0,
        "f first",
    );
    assert_within(
        &a["load"]["f"]["all-choices"],
        &[0.5, 0.5, 0.6666666666666666, 0.3333333333333333],
        0.0,
        "f all",
    );
    assert_within(
        &a["load"]["f"]["all-choices-over-k"],
        &[0.25, 0.25, 0.3333333333333333, 0.16666666666666666],
        0.0,
        "f over k",
    );
    assert_within(
        &a["losses"]["aux"]["first-choice"],
        &[1.0658014014796084],
        1e-14,
        "aux first",
    );
    assert_within(
        &a["losses"]["aux"]["all-choices"],
        &[2.084241739652176],
        1e-14,
        "aux all",
    );
    assert_within(
        &a["losses"]["aux"]["all-choices-over-k"],
        &[1.042120869826088],
        1e-14,
        "aux over k",
    );
    assert_within(&a["losses"]["z_loss"], &[5.680040032702778], 1e-13, "z");
    assert_eq!(a["capacity"]["exact"].as_f64(), Some(3.0));
    assert_eq!(a["capacity"]["used"].as_u64(), Some(3));
    assert_eq!(
        kept(&a["dispatch"]["in-order"]["kept"]),
        vec![1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]
    );
    assert_eq!(
        ints(&a["dispatch"]["in-order"]["slot"]),
        &[0.0, 1.0, 0.0, 1.0, 0.0, 2.0, 1.0, 2.0, 1.0, 2.0, 0.0, 0.0]
    );
    assert_eq!(a["dispatch"]["in-order"]["dropped"].as_u64(), Some(1));
    assert_eq!(
        kept(&a["dispatch"]["batch-priority"]["kept"]),
        vec![1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]
    );
    assert_eq!(
        ints(&a["dispatch"]["batch-priority"]["slot"]),
        &[0.0, 1.0, 1.0, 2.0, 0.0, 1.0, 1.0, 2.0, 0.0, 2.0, 0.0, 0.0]
    );
    assert_eq!(
        a["dispatch"]["batch-priority"]["tokens_fully_dropped"].as_u64(),
        Some(0)
    );
}

#[test]
fn deepseek_v3_sigmoid_with_bias_and_scale_matches_numpy() {
    let a = answer(
        &["--score", "sigmoid", "--capacity-rounding", "floor"],
        &format!(
            r#"{{"logits":{X1},"k":2,"bias":[0.0,0.3,-0.2,0.1],"route_scale":2.5,"capacity_factor":0.75}}"#
        ),
    );
    assert_within(
        &a["router"]["scores"],
        &[
            0.574442516811659,
            0.23147521650098238,
            0.8807970779778823,
            0.6224593312018546,
            0.8175744761936437,
            0.8021838885585817,
            0.425557483188341,
            0.5,
            0.3318122278318339,
            0.549833997312478,
            0.52497918747894,
            0.9002495108803148,
            0.5,
            0.5,
            0.7109495026250039,
            0.11920292202211755,
            0.9241418199787566,
            0.3775406687981454,
            0.598687660112452,
            0.574442516811659,
            0.52497918747894,
            0.8698915256370021,
            0.8581489350995123,
            0.2689414213699951,
        ],
        1e-15,
        "scores",
    );
    assert_within(
        &a["router"]["probs"],
        &[
            0.24876535131804378,
            0.10024155919706536,
            0.38143380430685275,
            0.26955928517803807,
            0.32120747484252266,
            0.3151608430865798,
            0.16719240699839383,
            0.19643927507250375,
            0.14383624549869137,
            0.2383458208810981,
            0.2275715870549357,
            0.39024634656527485,
            0.27320128819128653,
            0.27320128819128653,
            0.388464639912211,
            0.06513278370521598,
            0.37341889864499506,
            0.15255323121243344,
            0.2419123145803314,
            0.23211555556224012,
            0.2081630814250571,
            0.3449266271901618,
            0.34027049245473545,
            0.1066397989300456,
        ],
        1e-15,
        "probs",
    );
    assert_eq!(
        ints(&a["router"]["chosen"]),
        &[3.0, 2.0, 1.0, 0.0, 3.0, 1.0, 1.0, 2.0, 0.0, 1.0, 1.0, 2.0]
    );
    assert_within(
        &a["router"]["gates"]["none"],
        &[
            1.5561483280046364,
            2.201992694944706,
            2.0054597213964542,
            2.043936190484109,
            2.250623777200787,
            1.3745849932811949,
            1.25,
            1.7773737565625098,
            2.3103545499468914,
            0.9438516719953636,
            2.1747288140925054,
            2.1453723377487806,
        ],
        1e-14,
        "gates none",
    );
    assert_within(
        &a["router"]["gates"]["renormalize"],
        &[
            1.035184894940019,
            1.464815105059981,
            1.2381227749999795,
            1.2618772250000203,
            1.5520649428015976,
            0.9479350571984023,
            1.0322478330354365,
            1.4677521669645635,
            1.7748986944717726,
            0.7251013055282272,
            1.2584941519052202,
            1.24150584809478,
        ],
        1e-14,
        "gates renormalize",
    );
    assert_within(
        &a["load"]["P"],
        &[
            0.2614320566534327,
            0.23740489495977082,
            0.29114087421791,
            0.21002217416888638,
        ],
        1e-15,
        "P",
    );
    assert_within(
        &a["losses"]["aux"]["all-choices-over-k"],
        &[1.001118519699074],
        1e-14,
        "aux",
    );
    assert_within(
        &a["losses"]["aux"]["first-choice"],
        &[0.9291273932470119],
        1e-14,
        "aux first",
    );
    // 2.25 slots: floor 2, round 2, ceil 3; dispatch uses the floor asked for.
    assert_eq!(ints(&a["capacity"]["floor"]), vec![2.0]);
    assert_eq!(ints(&a["capacity"]["ceil"]), vec![3.0]);
    assert_eq!(a["capacity"]["used"].as_u64(), Some(2));
}

#[test]
fn top1_dispatch_orders_differ_and_ties_go_to_the_lower_index() {
    let a = answer(
        &[],
        &format!(r#"{{"logits":{X3},"k":1,"capacity_factor":1}}"#),
    );
    assert_eq!(
        ints(&a["router"]["chosen"]),
        &[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 2.0, 0.0]
    );
    assert_within(
        &a["losses"]["aux"]["first-choice"],
        &[1.6458586184220216],
        1e-14,
        "aux",
    );
    assert_within(&a["losses"]["z_loss"], &[5.95091704215891], 1e-13, "z");
    assert_eq!(
        kept(&a["dispatch"]["in-order"]["kept"]),
        vec![1, 1, 0, 1, 0, 0, 1, 0]
    );
    assert_eq!(
        kept(&a["dispatch"]["batch-priority"]["kept"]),
        vec![0, 0, 1, 1, 0, 0, 1, 1]
    );
    assert_eq!(a["dispatch"]["in-order"]["dropped"].as_u64(), Some(4));
}

#[test]
fn capacity_roundings_match_python() {
    // (T, E, k, cf) -> exact, floor, round (ties to even), ceil.
    for ((t, e, k, cf), want) in [
        ((20, 8, 1, 1.0), [2.5, 2.0, 2.0, 3.0]),
        ((100, 8, 2, 1.25), [31.25, 31.0, 31.0, 32.0]),
        ((4096, 64, 2, 1.25), [160.0, 160.0, 160.0, 160.0]),
        ((10, 11, 1, 1.1), [1.0, 1.0, 1.0, 1.0]),
    ] {
        let logits = format!(
            "[{}]",
            vec![format!("[{}]", vec!["0"; e].join(",")); t].join(",")
        );
        let a = answer(
            &[],
            &format!(r#"{{"logits":{logits},"k":{k},"capacity_factor":{cf}}}"#),
        );
        let got = [
            a["capacity"]["exact"].as_f64().unwrap(),
            a["capacity"]["floor"].as_f64().unwrap(),
            a["capacity"]["round"].as_f64().unwrap(),
            a["capacity"]["ceil"].as_f64().unwrap(),
        ];
        assert_eq!(got, want, "T={t} E={e} k={k} cf={cf}");
    }
}

#[test]
fn mixtral_preset_and_a_config_match_a_direct_count() {
    let a = answer(&[], r#"{"preset":"mixtral-8x7b"}"#);
    assert_eq!(a["params"]["total"].as_f64(), Some(46702792704.0));
    assert_eq!(a["params"]["active"].as_f64(), Some(12879925248.0));
    let a = answer(
        &[],
        r#"{"config":{"d_model":1024,"layers":8,"vocab":50000,"heads":16,"kv_heads":4,"d_ff_expert":2816,"d_ff_dense":4096,"experts":16,"top_k":2,"shared_experts":1,"dense_layers":1,"tied":true}}"#,
    );
    assert_eq!(a["params"]["total"].as_f64(), Some(1114326016.0));
    assert_eq!(a["params"]["active"].as_f64(), Some(266552320.0));
}

#[test]
fn bad_input_is_refused_with_a_message_naming_it() {
    assert!(error(&[], r#"{"logits":[[1,2]]}"#).contains("routing needs k"));
    assert!(error(&[], r#"{"logits":[[1,2]],"k":3}"#).contains("k is 3"));
    assert!(error(&[], r#"{"logits":[[1,2]],"k":1,"bias":[1]}"#).contains("bias has 1 entries"));
    assert!(
        error(&[], r#"{"logits":[[1,2]],"k":1,"preset":"deepseek-v3"}"#)
            .contains("routing does not use preset")
    );
    assert!(error(&[], r#"{"preset":"mixtral-8x7b","top_k":9}"#).contains("top_k is 9"));
    assert!(error(&[], r#"{"preset":"gpt-5"}"#).contains("unknown preset"));
    assert!(error(&["--score", "relu"], r#"{"logits":[[1,2]],"k":1}"#).contains("relu"));
    assert!(
        error(&["--score", "sigmoid"], r#"{"preset":"mixtral-8x7b"}"#)
            .contains("does not use --score")
    );
    assert!(error(&[], r#"{"logits":[[1,2],[3]],"k":1}"#).contains("ragged"));
    assert!(error(&[], r#"{"logits":[[1e200,0]],"k":1}"#).contains("z_loss"));
    assert!(error(&[], r#"{"config":{"d_model":8,"layers":1,"vocab":1,"heads":3,"kv_heads":1,"d_ff_expert":1,"experts":2,"top_k":1}}"#).contains("head_dim"));
    assert!(error(&[], r#"{}"#).contains("give logits and k"));
}

#[test]
fn help_names_the_conventions_and_who_uses_them() {
    let h = help("moe");
    for word in [
        "load_balancing_loss_func",
        "Mesh-TF",
        "DeepSpeed",
        "Megatron-Core",
        "batch-priority",
        "DeepSeek-V3",
        "z_loss",
    ] {
        assert!(h.contains(word), "{word}");
    }
}

/// Seeded random problems, valid and broken (extreme numbers, wrong sizes, stray fields and options): whatever
/// the input, `dlf calc moe` exits 0 with complete JSON and no `null`, or 2 with a message and no output.
#[test]
fn random_problems_never_panic_nor_print_null() {
    const EXTREMES: &[&str] = &[
        "1e308", "-1e308", "5e-324", "0", "-0.0", "1e400", "1e154", "-1e200",
    ];
    let mut rng = Rng::new(12);
    for case in 0..150 {
        let (t, e) = (1 + rng.below(5), 1 + rng.below(5));
        let k = 1 + rng.below(e + 1);
        let mut rows: Vec<String> = (0..t)
            .map(|_| list(&(0..e).map(|_| rng.uniform(-3.0, 3.0)).collect::<Vec<_>>()))
            .collect();
        if case % 3 == 1 {
            let r = rng.below(t);
            rows[r] = format!("[{}]", vec![*rng.pick(EXTREMES); e].join(","));
        }
        let mut problem = format!(r#"{{"logits":[{}],"k":{k}"#, rows.join(","));
        match rng.below(6) {
            0 => problem.push_str(&format!(r#","capacity_factor":{}"#, rng.uniform(0.0, 3.0))),
            1 => problem.push_str(&format!(
                r#","bias":{}"#,
                list(&vec![0.1; 1 + rng.below(5)])
            )),
            2 => problem.push_str(&format!(
                r#","route_scale":{}"#,
                rng.pick(&["2.5", "0", "-1", "1e308"])
            )),
            3 => problem.push_str(r#","preset":"mixtral-8x7b""#),
            4 => problem.push_str(&format!(r#","capacity_factor":{}"#, rng.pick(EXTREMES))),
            _ => {}
        }
        problem.push('}');
        let mut args = vec!["moe"];
        if rng.below(2) == 0 {
            args.extend(["--score", *rng.pick(&["softmax", "sigmoid"])]);
        }
        if rng.below(3) == 0 {
            args.extend([
                "--capacity-rounding",
                *rng.pick(&["floor", "round", "ceil"]),
            ]);
        }
        let out = run(&args, &problem);
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => {
                let v: Value = serde_json::from_slice(&out.stdout)
                    .unwrap_or_else(|e| panic!("{problem}: not JSON: {e}"));
                assert!(!has_null(&v), "{args:?} {problem}: null in the answer");
            }
            Some(2) => {
                assert!(out.stdout.is_empty(), "{problem}: output on failure");
                assert!(!stderr.trim().is_empty(), "{problem}: no message");
            }
            other => panic!("{args:?} {problem}: exit {other:?}: {stderr}"),
        }
    }
}
