//! `dlf calc attention`: scores, weights, outputs and gradients under every convention the topic offers,
//! against numpy, and the error messages a user sees.
//!
//! The expected numbers were printed by this numpy (2.x, float64) script. The forward passes are written
//! from the formulas; every gradient is a central finite difference (h = 1e-6) of L = Σ dout ⊙ output, so it
//! is independent of the closed-form backward pass the engine uses (error O(h²) + rounding ≈ 1e-9, hence the
//! tolerances on gradients). A fully masked row under `neg-inf` is zeroed as PyTorch's SDPA does (≥ 2.5).
//!
//   import numpy as np, json
//   np.set_printoptions(precision=17)
//   def softmax_masked(z, vis, fill, c):
//       # fill: 'neg-inf' (hidden -> -inf; a row with nothing visible -> zeros, as torch SDPA >= 2.5),
//       # 'masked-fill' (hidden scores replaced by c), 'additive' (c added to hidden scores)
//       z = z.copy()
//       if fill == 'neg-inf':
//           out = np.zeros_like(z)
//           for i in range(z.shape[0]):
//               if vis[i].any():
//                   zi = np.where(vis[i], z[i], -np.inf); e = np.exp(zi - zi.max()); out[i] = e / e.sum()
//           return out
//       if fill == 'masked-fill': z = np.where(vis, z, c)
//       else: z = z + np.where(vis, 0.0, c)
//       e = np.exp(z - z.max(1, keepdims=True)); return e / e.sum(1, keepdims=True)
//   def mha(q, k, v, heads, vis, scale=None, fill='neg-inf', c=-1e9):
//       d, dv = q.shape[1], v.shape[1]; dh, dvh = d // heads, dv // heads
//       s = scale if scale is not None else 1 / np.sqrt(dh)
//       outs = []
//       for h in range(heads):
//           qh, kh, vh = q[:, h*dh:(h+1)*dh], k[:, h*dh:(h+1)*dh], v[:, h*dvh:(h+1)*dvh]
//           p = softmax_masked(s * qh @ kh.T, vis, fill, c); outs.append(p @ vh)
//       return np.concatenate(outs, 1)
//   def num_grad(f, arrs, h=1e-6):
//       gs = []
//       for a in arrs:
//           g = np.zeros_like(a)
//           for i in np.ndindex(a.shape):
//               old = a[i]; a[i] = old + h; fp = f(); a[i] = old - h; fm = f(); a[i] = old; g[i] = (fp - fm) / (2*h)
//           gs.append(g)
//       return gs
//   r = {}
//   # A: direct q, k, v; 2 queries, 4 keys; causal top-left vs bottom-right
//   rng = np.random.default_rng(0)
//   q = rng.normal(size=(2, 3)).round(2); k = rng.normal(size=(4, 3)).round(2); v = rng.normal(size=(4, 2)).round(2); do = rng.normal(size=(2, 2)).round(2)
//   r['A_in'] = dict(q=q.tolist(), k=k.tolist(), v=v.tolist(), dout=do.tolist())
//   for name, off in [('tl', 0), ('br', 4 - 2)]:
//       vis = np.tril(np.ones((2, 4), bool), k=off)
//       f = lambda: (do * mha(q, k, v, 1, vis)).sum()
//       dq, dk, dv = num_grad(f, [q, k, v])
//       z = q @ k.T / np.sqrt(3)
//       r['A_' + name] = dict(weights=softmax_masked(z, vis, 'neg-inf', 0).ravel().tolist(), out=mha(q, k, v, 1, vis).ravel().tolist(), dq=dq.ravel().tolist(), dk=dk.ravel().tolist(), dv=dv.ravel().tolist())
//   # B: from x with 2 heads, biases, wo, bo; causal + key_length 3 (T = 4), scale default 1/sqrt(2)
//   x = rng.normal(size=(4, 3)).round(2)
//   W = {n: rng.normal(size=s).round(2) for n, s in [('wq', (3, 4)), ('wk', (3, 4)), ('wv', (3, 4)), ('wo', (4, 3))]}
//   B = {n: rng.normal(size=s).round(2) for n, s in [('bq', 4), ('bk', 4), ('bv', 4), ('bo', 3)]}
//   dy = rng.normal(size=(4, 3)).round(2)
//   vis = np.tril(np.ones((4, 4), bool)); vis[:, 3:] = False
//   def fwdB():
//       Q = x @ W['wq'] + B['bq']; K = x @ W['wk'] + B['bk']; V = x @ W['wv'] + B['bv']
//       return mha(Q, K, V, 2, vis) @ W['wo'] + B['bo']
//   r['B_in'] = dict(x=x.tolist(), dy=dy.tolist(), **{n: a.tolist() for n, a in W.items()}, **{n: a.tolist() for n, a in B.items()})
//   f = lambda: (dy * fwdB()).sum()
//   g = num_grad(f, [x, W['wq'], W['wk'], W['wv'], W['wo'], B['bq'], B['bv'], B['bo']])
//   r['B'] = dict(y=fwdB().ravel().tolist(), **{n: a.ravel().tolist() for n, a in zip(['dx', 'dwq', 'dwk', 'dwv', 'dwo', 'dbq', 'dbv', 'dbo'], g)})
//   # C: a fully masked row (query 1 sees nothing) under the three fills, c = -1e4, scale 0.5
//   q = rng.normal(size=(2, 2)).round(2); k = rng.normal(size=(3, 2)).round(2); v = rng.normal(size=(3, 2)).round(2); do = rng.normal(size=(2, 2)).round(2)
//   vis = np.array([[1, 0, 1], [0, 0, 0]], bool)
//   r['C_in'] = dict(q=q.tolist(), k=k.tolist(), v=v.tolist(), dout=do.tolist())
//   for fill in ['neg-inf', 'masked-fill', 'additive']:
//       f = lambda: (do * mha(q, k, v, 1, vis, 0.5, fill, -1e4)).sum()
//       dq, dk, dv = num_grad(f, [q, k, v])
//       r['C_' + fill] = dict(out=mha(q, k, v, 1, vis, 0.5, fill, -1e4).ravel().tolist(), dq=dq.ravel().tolist(), dk=dk.ravel().tolist(), dv=dv.ravel().tolist())
//   # D: fused w_qkv (3 x 12, d = 4, 2 heads) with b_qkv, per-head layout (GPT-NeoX: view(..., heads, 3*dh)) vs blocks
//   x = rng.normal(size=(3, 3)).round(2); w = rng.normal(size=(3, 12)).round(2); b = rng.normal(size=12).round(2); do = rng.normal(size=(3, 4)).round(2)
//   r['D_in'] = dict(x=x.tolist(), w_qkv=w.tolist(), b_qkv=b.tolist(), dout=do.tolist())
//   def split(F, layout):
//       if layout == 'blocks': return F[:, 0:4], F[:, 4:8], F[:, 8:12]
//       G = F.reshape(F.shape[0], 2, 3, 2)  # [rows, heads, (q,k,v), dh], as GPT-NeoX's view(..., heads, 3*dh)
//       return G[:, :, 0].reshape(-1, 4), G[:, :, 1].reshape(-1, 4), G[:, :, 2].reshape(-1, 4)
//   for layout in ['blocks', 'per-head']:
//       def fwdD():
//           Q, K, V = split(x @ w + b, layout); return mha(Q, K, V, 2, np.ones((3, 3), bool))
//       f = lambda: (do * fwdD()).sum()
//       dw, db = num_grad(f, [w, b])
//       r['D_' + layout] = dict(out=fwdD().ravel().tolist(), dw=dw.ravel().tolist(), db=db.ravel().tolist())
//   print(json.dumps(r))

use serde_json::Value;

use super::{answer as run_answer, assert_close, error as run_error, fails as run_fails, help};

fn answer(args: &[&str], stdin: &str) -> Value {
    let mut all = vec!["attention"];
    all.extend_from_slice(args);
    run_answer(&all, stdin)
}

fn fails(args: &[&str], stdin: &str, needle: &str) {
    let mut all = vec!["attention"];
    all.extend_from_slice(args);
    run_fails(&all, stdin, needle);
}

const A_QKV: &str = r#"{"q":[[0.13,-0.13,0.64],[0.1,-0.54,0.36]],"k":[[1.3,0.95,-0.7],[-1.27,-0.62,0.04],[-2.33,-0.22,-1.25],[-0.73,-0.54,-0.32]],"v":[[0.41,1.04],[-0.13,1.37],[-0.67,0.35],[0.9,0.09]],"dout":[[-0.74,-0.92],[-0.46,0.22]],"mask":"causal"}"#;

#[test]
fn causal_top_left_with_fewer_queries_than_keys() {
    // 2 queries, 4 keys: top-left alignment.
    let a = answer(&["--causal-align", "top-left"], A_QKV);
    assert_eq!(a["conventions"]["causal_align"], "top-left");
    let h = &a["heads"][0];
    assert_close(
        &h["weights"],
        &[
            1.0,
            0.0,
            0.0,
            0.0,
            0.37873883982115364,
            0.6212611601788464,
            0.0,
            0.0,
        ],
        1e-12,
        "weights",
    );
    assert_close(
        &a["output"],
        &[0.41, 1.04, 0.07451897350342296, 1.2450161828590194],
        1e-12,
        "out",
    );
    let b = &a["backward"];
    assert_close(
        &b["dq"],
        &[
            0.0,
            0.0,
            0.0,
            -0.11207056882511779,
            -0.06846334343890703,
            0.03226934663924652,
        ],
        1e-7,
        "dq",
    );
    assert_close(
        &b["dk"],
        &[
            -0.004360722449803234,
            0.02354790151759545,
            -0.015698600974722865,
            0.004360722449803234,
            -0.02354790151759545,
            0.015698600974722865,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
        1e-7,
        "dk",
    );
    assert_close(
        &b["dv"],
        &[
            -0.9142198663658618,
            -0.8366774552071021,
            -0.28578013366864496,
            0.1366774552424843,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
        1e-7,
        "dv",
    );
}

#[test]
fn causal_bottom_right_with_fewer_queries_than_keys() {
    // 2 queries, 4 keys: bottom-right alignment.
    let a = answer(&["--causal-align", "bottom-right"], A_QKV);
    assert_eq!(a["conventions"]["causal_align"], "bottom-right");
    let h = &a["heads"][0];
    assert_close(
        &h["weights"],
        &[
            0.34507420989816323,
            0.4207913257706263,
            0.23413446433121057,
            0.0,
            0.19180350757459086,
            0.31462331589343123,
            0.19980619045806103,
            0.29376698607391677,
        ],
        1e-12,
        "weights",
    );
    assert_close(
        &a["output"],
        &[
            -0.07009253739384558,
            1.0173083571157715,
            0.1682585468990604,
            0.7268807860585491,
        ],
        1e-12,
        "out",
    );
    let b = &a["backward"];
    assert_close(
        &b["dq"],
        &[
            -0.34417102412476197,
            -0.060454637851314885,
            -0.12901310209034733,
            -0.09271598799820424,
            0.00014177931051406745,
            -0.012468251986419432,
        ],
        1e-7,
        "dq",
    );
    assert_close(
        &b["dk"],
        &[
            -0.010210633616392073,
            0.012272408811409008,
            -0.049647759958748594,
            -0.003785477709072893,
            -0.018488449382569883,
            -0.02533395249137982,
            0.022081502293325173,
            -0.037445071265906904,
            0.10408912043402552,
            -0.00808539113439366,
            0.043661112059112384,
            -0.029107408039408256,
        ],
        1e-7,
        "dk",
    );
    assert_close(
        &b["dv"],
        &[
            -0.3435845288279893,
            -0.2752715013709661,
            -0.4561123064239503,
            -0.31791089022403796,
            -0.2651703512324133,
            -0.17144634528731828,
            -0.1351328136056651,
            0.06462873691770454,
        ],
        1e-7,
        "dv",
    );
}

#[test]
fn two_heads_from_x_with_biases_output_projection_causal_mask_and_padding() {
    let a = answer(
        &[],
        r#"{"x":[[-1.01,-0.21,-0.16],[0.54,0.21,0.36],[-0.65,-0.13,0.78],[1.49,-1.26,1.51]],"wq":[[1.35,0.78,0.26,-0.31],[1.46,1.96,1.8,1.32],[0.36,-1.21,-0.0,0.66]],"wk":[[-1.29,0.4,0.43,0.7],[-1.18,-0.66,-0.44,-1.17],[1.74,-0.5,0.33,-0.26]],"wv":[[1.58,1.32,0.63,-2.2],[0.05,0.68,1.0,-0.62],[1.82,-1.32,-0.66,0.94]],"bq":[-0.29,1.57,-0.43,-0.74],"bk":[0.25,1.03,0.16,-0.59],"bv":[-1.34,-1.4,0.5,0.99],"wo":[[0.05,2.0,0.19],[-0.63,-0.38,-1.09],[-1.28,0.63,0.58],[1.29,-0.75,1.69]],"bo":[-0.16,-1.07,0.87],"heads":2,"mask":"causal","key_length":3,"dout":[[-1.28,-0.71,0.62],[-2.25,0.39,-0.58],[0.11,-0.08,0.2],[0.69,-0.76,1.42]]}"#,
    );
    assert_eq!(a["method"], "x");
    assert_close(
        &a["y"],
        &[
            5.7824670000000005,
            -9.077867000000001,
            8.414043000000001,
            2.9181810538140454,
            -5.784702510129207,
            5.795898198882907,
            3.9449350628943955,
            -3.5688110055445295,
            6.441873868803309,
            5.529214958689524,
            -5.0926069127910125,
            8.38210852403369,
        ],
        1e-12,
        "y",
    );
    let b = &a["backward"];
    assert_close(
        &b["dx"],
        &[
            0.11936187949146415,
            5.896409797756519,
            -6.1421821220264405,
            4.190056096753381,
            1.7826577494162166,
            -1.7001181529252563,
            -6.386594288976255,
            -0.5011066406268583,
            1.5608284282819795,
            1.341102488616741,
            -0.025751274002061564,
            0.2141621529005988,
        ],
        1e-6,
        "dx",
    );
    assert_close(
        &b["dwq"],
        &[
            0.7606807397309012,
            -0.11038264524643182,
            0.4578680012912173,
            0.1411219257008156,
            -1.581619052615224,
            0.14953649962734517,
            0.9363346107349457,
            0.8398040591828249,
            1.315475615548678,
            -0.15574850475985613,
            -0.049007745417384285,
            -0.28144652564066064,
        ],
        1e-6,
        "dwq",
    );
    assert_close(
        &b["dwk"],
        &[
            0.8578907069178854,
            3.504501343343236,
            3.533235506836263,
            0.6332908695227957,
            0.231884589751985,
            0.9541278380709173,
            0.973778094603972,
            0.18388078260045404,
            0.31470380879028426,
            0.9646449656841583,
            0.420417466173717,
            -0.3607898886315297,
        ],
        1e-6,
        "dwk",
    );
    assert_close(
        &b["dwv"],
        &[
            1.7467585200492408,
            -0.5240220346536262,
            -1.8863947151004368,
            -1.8809219390902854,
            0.3493986673319682,
            -0.10215687673564844,
            -0.2704276047538201,
            -0.5245267491460481,
            -0.3768637766299321,
            -0.9283691717598685,
            -0.12688162254193003,
            0.5469819619463578,
        ],
        1e-6,
        "dwv",
    );
    assert_close(
        &b["dwo"],
        &[
            8.119150747276649,
            2.546538445002966,
            -2.834232137871595,
            6.193339758375771,
            3.3116672355504306,
            -4.708889119520165,
            -0.44798686538172205,
            0.45137146198470646,
            -0.6374165746336757,
            -5.6067756837308025,
            -3.979907150508666,
            5.548740332095292,
        ],
        1e-6,
        "dwo",
    );
    assert_close(
        &b["dbq"],
        &[
            0.08291243247526836,
            -0.0673217064317555,
            1.336933282303221,
            0.7527978258536905,
        ],
        1e-6,
        "dbq",
    );
    assert_close(
        &b["dbv"],
        &[
            -2.1410999995197244,
            0.3512999997568045,
            3.726400000125807,
            0.15370000117087557,
        ],
        1e-6,
        "dbv",
    );
    assert_close(
        &b["dbo"],
        &[-2.7300000002838942, -1.1599999991673826, 1.6599999996813608],
        1e-6,
        "dbo",
    );
    // The key gradient's bias is zero: a constant added to every key moves every score of a row equally.
    assert_close(&b["dbk"], &[0.0, 0.0, 0.0, 0.0], 1e-12, "dbk");
}

#[test]
fn fully_masked_row_under_neg_inf() {
    let a = answer(
        &["--mask-fill", "neg-inf"],
        r#"{"q":[[0.73,0.84],[1.16,0.79]],"k":[[0.84,0.08],[-1.43,-0.14],[-0.77,-1.42]],"v":[[0.26,-0.57],[-1.03,-1.04],[0.27,0.36]],"dout":[[1.32,-0.01],[1.04,1.4]],"scale":0.5,"mask_matrix":[[1,0,1],[0,0,0]]}"#,
    );
    assert_close(
        &a["output"],
        &[0.2622835027130771, -0.3576342476838309, 0.0, 0.0],
        1e-12,
        "out",
    );
    let b = &a["backward"];
    assert_close(
        &b["dq"],
        &[-0.0005532000690866568, -0.0005154038029697716, 0.0, 0.0],
        1e-7,
        "dq",
    );
    assert_close(
        &b["dk"],
        &[
            -0.0002508298291292732,
            -0.00028862612300173396,
            0.0,
            0.0,
            0.0002508298291292732,
            0.00028862612300173396,
        ],
        1e-7,
        "dk",
    );
    assert_close(
        &b["dv"],
        &[
            1.018577641842544,
            -0.007716497274490308,
            0.0,
            0.0,
            0.3014223581288,
            -0.0022835027202461333,
        ],
        1e-7,
        "dv",
    );
}

#[test]
fn fully_masked_row_under_masked_fill() {
    let a = answer(
        &["--mask-fill", "masked-fill"],
        r#"{"q":[[0.73,0.84],[1.16,0.79]],"k":[[0.84,0.08],[-1.43,-0.14],[-0.77,-1.42]],"v":[[0.26,-0.57],[-1.03,-1.04],[0.27,0.36]],"dout":[[1.32,-0.01],[1.04,1.4]],"scale":0.5,"mask_matrix":[[1,0,1],[0,0,0]],"fill_value":-1e4}"#,
    );
    assert_close(
        &a["output"],
        &[
            0.2622835027130771,
            -0.3576342476838309,
            -0.16666666666666666,
            -0.41666666666666663,
        ],
        1e-12,
        "out",
    );
    let b = &a["backward"];
    assert_close(
        &b["dq"],
        &[-0.0005532000690866568, -0.0005154038029697716, 0.0, 0.0],
        1e-7,
        "dq",
    );
    assert_close(
        &b["dk"],
        &[
            -0.0002508298291292732,
            -0.00028862612300173396,
            0.0,
            0.0,
            0.0002508298291292732,
            0.00028862612300173396,
        ],
        1e-7,
        "dk",
    );
    assert_close(
        &b["dv"],
        &[
            1.3652443084932742,
            0.45895016947961054,
            0.34666666667848567,
            0.4666666665875674,
            0.6480890247795301,
            0.4643831639228324,
        ],
        1e-7,
        "dv",
    );
}

#[test]
fn fully_masked_row_under_additive() {
    let a = answer(
        &["--mask-fill", "additive"],
        r#"{"q":[[0.73,0.84],[1.16,0.79]],"k":[[0.84,0.08],[-1.43,-0.14],[-0.77,-1.42]],"v":[[0.26,-0.57],[-1.03,-1.04],[0.27,0.36]],"dout":[[1.32,-0.01],[1.04,1.4]],"scale":0.5,"mask_matrix":[[1,0,1],[0,0,0]],"fill_value":-1e4}"#,
    );
    assert_close(
        &a["output"],
        &[
            0.2622835027130771,
            -0.3576342476838309,
            0.044819276391399675,
            -0.5107897094437462,
        ],
        1e-12,
        "out",
    );
    let b = &a["backward"];
    assert_close(
        &b["dq"],
        &[
            -0.0005532000690866568,
            -0.0005154038029697716,
            0.18054242101328555,
            -0.12757369008409292,
        ],
        1e-7,
        "dq",
    );
    assert_close(
        &b["dk"],
        &[
            0.05560292540285339,
            0.03774974341452797,
            -0.1810674814251012,
            -0.12331312271296468,
            0.12546446856442905,
            0.08556337929843671,
        ],
        1e-7,
        "dk",
    );
    assert_close(
        &b["dv"],
        &[
            1.7294099042552968,
            0.9491730867394743,
            0.17467663837589242,
            0.23514162861282273,
            0.4559134573201007,
            0.2056852846377133,
        ],
        1e-7,
        "dv",
    );
}

#[test]
fn fused_qkv_in_the_blocks_layout() {
    let a = answer(
        &["--qkv-layout", "blocks"],
        r#"{"x":[[1.15,-2.37,1.23],[0.34,0.42,0.37],[0.38,0.32,-0.36]],"w_qkv":[[-1.9,-0.11,-0.8,1.08,-0.29,0.08,-0.85,-0.51,-0.01,-1.49,0.3,-0.11],[-1.19,-2.4,0.51,-0.3,-0.53,-0.24,1.82,-0.05,0.09,-1.49,1.65,0.92],[1.07,0.05,0.92,0.37,0.61,-0.15,-1.47,1.03,-1.93,-0.24,-0.2,-1.04]],"b_qkv":[0.61,-0.2,-0.44,0.52,-0.48,1.39,0.35,-0.47,-1.94,-1.31,1.09,-0.05],"heads":2,"dout":[[-0.28,1.64,-1.28,-0.59],[-0.47,0.59,-0.66,-0.61],[-1.61,0.73,0.81,-0.48]]}"#,
    );
    assert_eq!(a["conventions"]["qkv_layout"], "blocks");
    assert_close(
        &a["output"],
        &[
            -4.520421772481635,
            0.1937568616360674,
            -2.7204070817736583,
            -3.6352312296738045,
            -2.4789005671765914,
            -1.867428768835274,
            -1.2459846593550614,
            -2.4023345353660277,
            -2.108409432380844,
            -2.153904944096429,
            -2.6720034093980516,
            -3.5952684395345895,
        ],
        1e-12,
        "out",
    );
    assert_close(
        &a["backward"]["dw_qkv"],
        &[
            0.6011486251011888,
            0.12669176197022125,
            -2.031327250406889,
            0.2504870755259958,
            -0.22136447874743226,
            -0.4752309168409852,
            -0.09406352230456605,
            0.5825989299879097,
            -1.262172284022256,
            2.5001997858709046,
            -1.1352695281630076,
            -1.7696055385485465,
            0.4290481374624733,
            0.08241524174223969,
            -2.4884219955723097,
            0.30768286141125145,
            0.7799174195355363,
            1.6652570318242965,
            0.32576035557951855,
            -2.0173733501493984,
            0.5558920692649849,
            -3.8799092640928734,
            2.1096006923571053,
            3.4194953899557845,
            -0.0031241560449757344,
            0.024178039126354633,
            -2.2906466563554773,
            0.2814569937115152,
            -0.5916324807841988,
            -1.084269869444654,
            -0.13593524350596908,
            0.836201327736319,
            -0.6136210046747692,
            2.227247718700198,
            -1.1579394678662425,
            -1.8378336292812492,
        ],
        1e-6,
        "dw_qkv",
    );
    assert_close(
        &a["backward"]["db_qkv"],
        &[
            1.5508789665830136,
            0.32257953375136594,
            -5.96384315976195,
            0.7359044440491402,
            0.0,
            0.0,
            0.0,
            0.0,
            -2.359999998979845,
            2.9600000006624327,
            -1.1300000002378852,
            -1.6800000013361682,
        ],
        1e-6,
        "db_qkv",
    );
}

#[test]
fn fused_qkv_in_the_per_head_layout() {
    let a = answer(
        &["--qkv-layout", "per-head"],
        r#"{"x":[[1.15,-2.37,1.23],[0.34,0.42,0.37],[0.38,0.32,-0.36]],"w_qkv":[[-1.9,-0.11,-0.8,1.08,-0.29,0.08,-0.85,-0.51,-0.01,-1.49,0.3,-0.11],[-1.19,-2.4,0.51,-0.3,-0.53,-0.24,1.82,-0.05,0.09,-1.49,1.65,0.92],[1.07,0.05,0.92,0.37,0.61,-0.15,-1.47,1.03,-1.93,-0.24,-0.2,-1.04]],"b_qkv":[0.61,-0.2,-0.44,0.52,-0.48,1.39,0.35,-0.47,-1.94,-1.31,1.09,-0.05],"heads":2,"dout":[[-0.28,1.64,-1.28,-0.59],[-0.47,0.59,-0.66,-0.61],[-1.61,0.73,0.81,-0.48]]}"#,
    );
    assert_eq!(a["conventions"]["qkv_layout"], "per-head");
    assert_close(
        &a["output"],
        &[
            1.1843675658257227,
            1.8635175508681383,
            -2.7212473588329424,
            -3.6359020568370073,
            -0.644784122438727,
            1.379290984564289,
            1.1331686551911633,
            -0.3003870978884915,
            -0.5305336284562513,
            1.4276194173278376,
            1.7706745574697178,
            0.35811056708341965,
        ],
        1e-12,
        "out",
    );
    assert_close(
        &a["backward"]["dw_qkv"],
        &[
            0.045374143553544855,
            -0.24544128329750947,
            0.18342253582659396,
            0.242782108195172,
            -1.3003955618984264,
            2.483889106841275,
            -0.484799513422729,
            0.40718523663940687,
            0.09393506061883272,
            -0.09704723336056986,
            -1.4848281617574344,
            -1.1508481021493822,
            0.04390707175616626,
            -0.22743297023453124,
            -0.6411638029391042,
            -0.8496960681725341,
            0.6814641091423823,
            -3.8192018214644463,
            -0.5911117746393302,
            0.5052012923556504,
            -0.3287248304673085,
            0.3393363217085721,
            3.3264219565509734,
            1.2671544755704645,
            -0.05104037370529113,
            0.18622693787051503,
            0.3864436504130708,
            0.5327206116234606,
            -0.529760613154906,
            2.1173795126117056,
            -0.4991301683077154,
            0.47128099023296954,
            0.20546330947723845,
            -0.20655475196917905,
            -1.7905195965894904,
            -0.7501440970614226,
        ],
        1e-6,
        "dw_qkv",
    );
    assert_close(
        &a["backward"]["db_qkv"],
        &[
            0.12273784388838749,
            -0.6603555160467067,
            0.0,
            8.881784197001252e-10,
            -2.3600000007562016,
            2.9599999997742543,
            -1.4201322224849378,
            1.1998563511639304,
            0.0,
            0.0,
            -1.1300000002378852,
            -1.6799999995598114,
        ],
        1e-6,
        "db_qkv",
    );
}

#[test]
fn a_given_scale_replaces_one_over_root_d() {
    // With scale 1 the scores are the raw dot products: q·k = 1·1 + 2·0 = 1 and 1·0 + 2·1 = 2.
    let a = answer(
        &[],
        r#"{"q":[[1,2]],"k":[[1,0],[0,1]],"v":[[1],[0]],"scale":1}"#,
    );
    assert_close(&a["heads"][0]["scores"], &[1.0, 2.0], 1e-15, "scores");
    assert_eq!(a["conventions"]["scale_source"], "given");
    // Weight on key 0: 1/(1 + e) = 0.2689414213699951 (python: 1/(1+math.e)).
    assert_close(&a["output"], &[0.2689414213699951], 1e-15, "out");
}

#[test]
fn bad_input_is_refused_with_its_name() {
    let qkv = r#""q":[[1,0]],"k":[[1,0],[0,1]],"v":[[1],[2]]"#;
    fails(
        &[],
        &format!("{{{qkv},\"fill_value\":-5}}"),
        "does not use fill_value",
    );
    fails(
        &["--causal-align", "bottom-right"],
        &format!("{{{qkv}}}"),
        "--causal-align",
    );
    fails(
        &["--qkv-layout", "per-head"],
        &format!("{{{qkv}}}"),
        "--qkv-layout",
    );
    fails(
        &[],
        r#"{"q":[[1,0]],"k":[[1,0,0]],"v":[[1]]}"#,
        "k has width 3 but q has 2",
    );
    fails(
        &[],
        r#"{"q":[[1,0]],"k":[[1,0]],"v":[[1],[2]]}"#,
        "v has 2 rows but k has 1",
    );
    fails(
        &[],
        &format!("{{{qkv},\"heads\":2}}"),
        "heads = 2 must divide",
    );
    fails(
        &[],
        &format!("{{{qkv},\"key_length\":3}}"),
        "key_length 3 exceeds the 2 keys",
    );
    fails(
        &[],
        &format!("{{{qkv},\"mask_matrix\":[[1,0.5]]}}"),
        "mask_matrix[0][1] is 0.5",
    );
    fails(
        &[],
        &format!("{{{qkv},\"mask_matrix\":[[1,0,1]]}}"),
        "mask_matrix is 1×3",
    );
    fails(
        &[],
        &format!("{{{qkv},\"mask\":\"diagonal\"}}"),
        "unknown mask \"diagonal\"",
    );
    fails(
        &[],
        &format!("{{{qkv},\"dout\":[[1,2]]}}"),
        "dout is 1×2 but the output is 1×1",
    );
    fails(
        &["--mask-fill", "zero"],
        &format!("{{{qkv},\"mask\":\"causal\"}}"),
        "zero",
    );
    fails(
        &[],
        r#"{"x":[[1,2]],"wq":[[1],[0]],"wk":[[1],[0]]}"#,
        "needs wv",
    );
    fails(
        &[],
        r#"{"x":[[1,2]],"w_qkv":[[1,0,0,1],[0,1,1,0]]}"#,
        "w_qkv has 4 columns",
    );
    // Overflowing scores are named, never printed as null.
    let e = run_error(&["attention"], r#"{"q":[[1e200]],"k":[[1e200]],"v":[[1]]}"#);
    assert!(e.contains("scores") && e.contains("inf"), "{e}");
}

#[test]
fn help_names_every_convention_and_who_uses_it() {
    let h = help("attention");
    for needle in [
        "top-left",
        "bottom-right",
        "FlashAttention",
        "neg-inf",
        "masked-fill",
        "additive",
        "per-head",
        "GPT-NeoX",
        "in_proj_weight",
    ] {
        assert!(h.contains(needle), "--help should mention {needle}");
    }
}
