//! `dlf calc norm`: forward values, running statistics and gradients of every norm
//! against numpy, and the error messages a user sees.
//!
//! The expected numbers were printed by this numpy (2.x, float64) script. Forward passes are computed
//! directly from the formulas; gradients are central finite differences (h = 1e-6) of L = Σ dy ⊙ y, so
//! they are independent of the closed-form backward pass the engine uses; their error is O(h²) + rounding
//! ≈ 1e-10, hence the 1e-7 tolerance on gradients.
//!
//   import numpy as np, json
//   x=np.array([[1.0,-2.0,0.5],[3.0,0.0,-1.0],[-0.5,1.5,2.0],[2.0,-1.0,0.0]])
//   g=np.array([1.5,-0.5,2.0]); b=np.array([0.1,0.2,-0.3])
//   dy=np.array([[0.5,-1.0,0.25],[1.0,0.0,-0.5],[-0.25,0.75,1.0],[0.0,0.5,-1.0]])
//   def bn(x,g,b,eps=1e-5):
//       mu=x.mean(0); var=x.var(0); return g*(x-mu)/np.sqrt(var+eps)+b
//   def ln(x,g,b,eps=1e-5):
//       mu=x.mean(1,keepdims=True); var=x.var(1,keepdims=True); return g*(x-mu)/np.sqrt(var+eps)+b
//   def rms_in(x,g,eps):
//       return g*x/np.sqrt((x*x).mean(1,keepdims=True)+eps)
//   def rms_out(x,g,eps):
//       return g*x/(np.sqrt((x*x).mean(1,keepdims=True))+eps)
//   def num_grads(f,x,g,b=None,h=1e-6):
//       # central differences of L = sum(dy * f(...)) in x, gamma, beta
//       L=lambda x,g,b: (dy*(f(x,g,b) if b is not None else f(x,g))).sum()
//       dx=np.zeros_like(x)
//       for i in np.ndindex(x.shape):
//           xp=x.copy(); xm=x.copy(); xp[i]+=h; xm[i]-=h; dx[i]=(L(xp,g,b)-L(xm,g,b))/(2*h)
//       dg=np.zeros_like(g)
//       for j in range(len(g)):
//           gp=g.copy(); gm=g.copy(); gp[j]+=h; gm[j]-=h; dg[j]=(L(x,gp,b)-L(x,gm,b))/(2*h)
//       out=dict(dx=dx.ravel().tolist(), dgamma=dg.tolist())
//       if b is not None:
//           db=np.zeros_like(b)
//           for j in range(len(b)):
//               bp=b.copy(); bm=b.copy(); bp[j]+=h; bm[j]-=h; db[j]=(L(x,g,bp)-L(x,g,bm))/(2*h)
//           out['dbeta']=db.tolist()
//       return out
//   r={}
//   r['bn_y']=bn(x,g,b).ravel().tolist(); r['bn']=num_grads(bn,x,g,b)
//   mu=x.mean(0)
//   r['bn_run_torch']=dict(mean=(0.9*0+0.1*mu).tolist(), var=(0.9*1+0.1*x.var(0,ddof=1)).tolist())
//   # two keras steps are not one call; one call with momentum 0.9 keras, biased
//   r['bn_run_keras']=dict(mean=(0.9*0+0.1*mu).tolist(), var=(0.9*1+0.1*x.var(0)).tolist())
//   rm=np.array([1.0,0.0,-1.0]); rv=np.array([4.0,1.0,0.25])
//   r['bn_eval_y']=(g*(x-rm)/np.sqrt(rv+1e-5)+b).ravel().tolist()
//   r['bn_eval_dx']=(dy*g/np.sqrt(rv+1e-5)).ravel().tolist()
//   r['ln_y']=ln(x,g,b).ravel().tolist(); r['ln']=num_grads(ln,x,g,b)
//   f=lambda x,g: rms_in(x,g,1e-6); r['rms_in_y']=f(x,g).ravel().tolist(); r['rms_in']=num_grads(f,x,g)
//   f=lambda x,g: rms_out(x,g,1e-2); r['rms_out_y']=f(x,g).ravel().tolist(); r['rms_out']=num_grads(f,x,g)
//   print(json.dumps(r))

use serde_json::Value;

use super::{answer as run_answer, assert_within, error as run_error};

fn answer(args: &[&str], stdin: &str) -> Value {
    let mut all = vec!["norm"];
    all.extend_from_slice(args);
    run_answer(&all, stdin)
}

fn error(args: &[&str], stdin: &str) -> String {
    let mut all = vec!["norm"];
    all.extend_from_slice(args);
    run_error(&all, stdin)
}

const X: &str = "[[1.0,-2.0,0.5],[3.0,0.0,-1.0],[-0.5,1.5,2.0],[2.0,-1.0,0.0]]";
const DY: &str = "[[0.5,-1.0,0.25],[1.0,0.0,-0.5],[-0.25,0.75,1.0],[0.0,0.5,-1.0]]";

fn problem(norm: &str, extra: &str) -> String {
    format!(r#"{{"norm":"{norm}","x":{X},"dy":{DY},"gamma":[1.5,-0.5,2.0]{extra}}}"#)
}

#[test]
fn batchnorm_train_forward_backward_and_pytorch_running_statistics() {
    let a = answer(&[], &problem("batchnorm", r#","beta":[0.1,0.2,-0.3]"#));
    assert_within(
        &a["forward"]["y"],
        &[
            -0.33503011904783897,
            0.8283768386246562,
            -0.06906087766230293,
            1.9851305158739687,
            0.05498996031738704,
            -2.8403303457146674,
            -2.0751505952391947,
            -0.5250501984130649,
            2.702208590390062,
            0.8250501984130649,
            0.44168339947102164,
            -0.9928173670130911,
        ],
        1e-12,
        "y",
    );
    assert_within(
        &a["backward"]["dx"],
        &[
            0.34151823058437003,
            0.15540169506778057,
            0.44340425819910934,
            0.26020814569704953,
            0.08312066679394547,
            0.6650920996165155,
            -0.03252932501141004,
            0.02890989581061376,
            0.22171641633761396,
            -0.5691970503818311,
            -0.2674322576723398,
            -1.3302127741532388,
        ],
        1e-7,
        "dx",
    );
    assert_within(
        &a["backward"]["dgamma"],
        &[1.4742687373114904, 2.102645574986184, 2.5114629558231627],
        1e-7,
        "dgamma",
    );
    assert_within(
        &a["backward"]["dbeta"],
        &[1.250000000396767, 0.2500000002569891, -0.2499999998128999],
        1e-7,
        "dbeta",
    );
    // PyTorch: running = 0.9·running + 0.1·batch, with the unbiased variance x.var(0, ddof=1).
    assert_within(
        &a["running"]["mean"],
        &[0.1375, -0.037500000000000006, 0.037500000000000006],
        1e-14,
        "running mean",
    );
    assert_within(
        &a["running"]["var"],
        &[1.1229166666666668, 1.1229166666666668, 1.05625],
        1e-14,
        "running var",
    );
    assert_eq!(a["conventions"]["running_variance"], "unbiased");
}

#[test]
fn keras_convention_keeps_momentum_and_stores_the_biased_variance() {
    // Keras with momentum 0.9 keeps 0.9 of the old value, like PyTorch's 0.1, but absorbs x.var(0).
    let a = answer(
        &["--momentum-convention", "keras"],
        &problem("batchnorm", r#","beta":[0.1,0.2,-0.3],"momentum":0.9"#),
    );
    assert_within(
        &a["running"]["mean"],
        &[0.1375, -0.037500000000000006, 0.037500000000000006],
        1e-14,
        "running mean",
    );
    assert_within(
        &a["running"]["var"],
        &[1.0671875, 1.0671875, 1.0171875],
        1e-14,
        "running var",
    );
    // The variance choice can be overridden independently of the momentum rule.
    let a = answer(
        &[
            "--momentum-convention",
            "keras",
            "--running-variance",
            "unbiased",
        ],
        &problem("batchnorm", r#","momentum":0.9"#),
    );
    assert_within(
        &a["running"]["var"],
        &[1.1229166666666668, 1.1229166666666668, 1.05625],
        1e-14,
        "running var",
    );
}

#[test]
fn batchnorm_eval_uses_the_running_statistics() {
    let a = answer(
        &[],
        &problem(
            "batchnorm",
            r#","beta":[0.1,0.2,-0.3],"mode":"eval","running_mean":[1,0,-1],"running_var":[4,1,0.25]"#,
        ),
    );
    assert_within(
        &a["forward"]["y"],
        &[
            0.1,
            1.1999950000374997,
            5.69988000359988,
            1.5999981250035156,
            0.2,
            -0.3,
            -1.0249985937526365,
            -0.5499962500281248,
            11.699760007199759,
            0.8499990625017577,
            0.6999975000187499,
            3.69992000239992,
        ],
        1e-12,
        "y",
    );
    assert_within(
        &a["backward"]["dx"],
        &[
            0.37499953125087887,
            0.4999975000187499,
            0.9999800005999799,
            0.7499990625017577,
            -0.0,
            -1.9999600011999599,
            -0.18749976562543944,
            -0.3749981250140624,
            3.9999200023999197,
            0.0,
            -0.24999875000937494,
            -3.9999200023999197,
        ],
        1e-12,
        "dx",
    );
    // Evaluation does not move the running statistics.
    assert_within(&a["running"]["var"], &[4.0, 1.0, 0.25], 0.0, "running var");
}

#[test]
fn layernorm_forward_and_backward() {
    let a = answer(&[], &problem("layernorm", r#","beta":[0.1,0.2,-0.3]"#));
    assert_within(
        &a["forward"]["y"],
        &[
            1.4334974620633754,
            0.8984986706046252,
            0.7159980663340002,
            2.1592158549265754,
            0.3961157957072929,
            -2.2611579570729288,
            -1.9830862969946694,
            -0.031454032999407744,
            1.551632263995262,
            2.104452871469308,
            0.7345207657251487,
            -0.8345207657251488,
        ],
        1e-12,
        "y",
    );
    assert_within(
        &a["backward"]["dx"],
        &[
            0.07681466129838554,
            0.015362416228015263,
            -0.0921770770823116,
            -0.033940285693034866,
            0.13577166457778844,
            -0.10183137888475358,
            0.20940271472369432,
            -1.0470512670224252,
            0.8376485522987309,
            0.3149872922492136,
            0.6299694299549685,
            -0.9449567217600929,
        ],
        1e-7,
        "dx",
    );
    assert_within(
        &a["backward"]["dgamma"],
        &[2.1644907732820684, 1.2096576251785507, 1.8103657621892921],
        1e-7,
        "dgamma",
    );
    assert_within(
        &a["backward"]["dbeta"],
        &[1.250000000396767, 0.2500000002569891, -0.2500000002569891],
        1e-7,
        "dbeta",
    );
    assert!(a.get("running").is_none());
}

#[test]
fn rmsnorm_with_eps_inside_and_outside() {
    let a = answer(&[], &problem("rmsnorm", ""));
    assert_within(
        &a["forward"]["y"],
        &[
            1.1338930950582724,
            0.7559287300388482,
            0.7559287300388482,
            2.4647511390606045,
            -0.0,
            -1.095444950693602,
            -0.5095245477824937,
            -0.5095245477824937,
            2.717464254839966,
            2.3237893105877614,
            0.3872982184312936,
            0.0,
        ],
        1e-12,
        "y inside",
    );
    assert_within(
        &a["backward"]["dx"],
        &[
            0.5669465474866797,
            0.37796436469506034,
            0.37796436469506034,
            -0.0821581007670602,
            0.0,
            -0.2464752038022766,
            -0.06532374730028323,
            -0.8230778529849658,
            0.6009780215698868,
            -0.07745959740290687,
            -0.1549193107130975,
            -1.5491928735400506,
        ],
        1e-7,
        "dx inside",
    );
    assert_within(
        &a["backward"]["dgamma"],
        &[2.1060525492444526, 1.8888460635579918, 1.7270844563377352],
        1e-7,
        "dgamma inside",
    );
    let a = answer(
        &["--rms-eps", "outside"],
        &problem("rmsnorm", r#","eps":0.01"#),
    );
    assert_within(
        &a["forward"]["y"],
        &[
            1.1253862982447242,
            0.7502575321631495,
            0.7502575321631495,
            2.451325048524703,
            -0.0,
            -1.0894777993443125,
            -0.5060864847412869,
            -0.5060864847412869,
            2.699127918620197,
            2.305928363426256,
            0.384321393904376,
            0.0,
        ],
        1e-12,
        "y outside",
    );
    assert_within(
        &a["backward"]["dx"],
        &[
            0.5626931489643994,
            0.3751287662723257,
            0.3751287662723257,
            -0.07681461777764298,
            0.0,
            -0.24676457721639622,
            -0.06615255498942929,
            -0.8137153040266298,
            0.6020012093266303,
            -0.07627346709782046,
            -0.15402396380537198,
            -1.537285575281544,
        ],
        1e-7,
        "dx outside",
    );
    assert_within(
        &a["backward"]["dgamma"],
        &[2.0936932125792396, 1.875323398348172, 1.7157156007030494],
        1e-7,
        "dgamma outside",
    );
    assert_eq!(a["conventions"]["rms_eps"], "outside");
}

#[test]
fn errors_exit_2_with_a_clear_message() {
    let e = error(&[], r#"{"norm":"groupnorm","x":[[1,2]]}"#);
    assert!(e.contains("unknown norm \"groupnorm\""), "{e}");
    let e = error(&[], r#"{"norm":"rmsnorm","x":[[1,2]],"beta":[0,0]}"#);
    assert!(
        e.contains("rmsnorm does not use beta; it uses gamma, eps, dy and --rms-eps"),
        "{e}"
    );
    let e = error(&[], r#"{"norm":"batchnorm","x":[[1,2]]}"#);
    assert!(e.contains("at least 2"), "{e}");
    let e = error(
        &[],
        r#"{"norm":"layernorm","x":[[1,2]],"dy":[[1,2],[3,4]]}"#,
    );
    assert!(e.contains("dy is 2×2 but x is 1×2"), "{e}");
    let e = error(&[], r#"{"norm":"layernorm","x":[[1,2]],"gamma":[1,2,3]}"#);
    assert!(
        e.contains("gamma has 3 entries but x has 2 features"),
        "{e}"
    );
    let e = error(&[], r#"{"norm":"layernorm","x":[[1,2]],"mode":"eval"}"#);
    assert!(
        e.contains("layernorm does not use mode; it uses gamma, beta, eps and dy"),
        "{e}"
    );
    let e = error(&[], r#"{"norm":"layernorm","x":[[1,2]],"gama":[1,1]}"#);
    assert!(e.contains("unknown field `gama`"), "{e}");
    let e = error(
        &["--rms-eps", "middle"],
        r#"{"norm":"rmsnorm","x":[[1,2]]}"#,
    );
    assert!(e.contains("possible values: inside, outside"), "{e}");
}

// Multi-step running statistics: three earlier batches, then x, in each library's convention. Expected values
// from this numpy script (float64):
//
//   import numpy as np
//   batches=[np.array([[0.0,1.0],[2.0,-1.0]]), np.array([[1.0,1.0],[1.0,3.0],[4.0,2.0]]),
//            np.array([[-1.0,0.5],[0.5,0.5],[2.0,-2.5],[3.0,1.5]]), np.array([[1.0,2.0],[3.0,5.0]])]
//   for name,keep,ddof in [("pytorch",0.9,1),("keras",0.99,0)]:
//       m=np.zeros(2); v=np.ones(2); hist=[]
//       for b in batches:
//           m=keep*m+(1-keep)*b.mean(0); v=keep*v+(1-keep)*b.var(0,ddof=ddof); hist.append((m.tolist(),v.tolist()))
//       print(name, hist)
const MULTI: &str = r#"{"norm":"batchnorm","x":[[1,2],[3,5]],"previous_batches":[
    [[0,1],[2,-1]], [[1,1],[1,3],[4,2]], [[-1,0.5],[0.5,0.5],[2,-2.5],[3,1.5]]]}"#;

#[test]
fn running_statistics_over_several_batches_match_numpy() {
    let a = answer(&[], MULTI);
    let h = &a["running_history"];
    assert_within(&h[0]["mean"], &[0.09999999999999998, 0.0], 1e-14, "mean 1");
    assert_within(&h[0]["var"], &[1.1, 1.1], 1e-14, "var 1");
    assert_within(&h[1]["var"], &[1.29, 1.09], 1e-14, "var 2");
    assert_within(
        &h[2]["mean"],
        &[0.37349999999999994, 0.17999999999999997],
        1e-14,
        "mean 3",
    );
    assert_within(&h[2]["var"], &[1.46725, 1.2810000000000001], 1e-14, "var 3");
    assert_within(
        &a["running"]["mean"],
        &[0.5361499999999999, 0.5119999999999999],
        1e-14,
        "final mean",
    );
    assert_within(
        &a["running"]["var"],
        &[1.520525, 1.6029000000000002],
        1e-14,
        "final var",
    );

    let k = answer(&["--momentum-convention", "keras"], MULTI);
    assert_within(
        &k["running_history"][1]["var"],
        &[1.01, 0.9966666666666667],
        1e-14,
        "keras var 2",
    );
    assert_within(
        &k["running"]["mean"],
        &[0.06044249000000006, 0.05460200000000005],
        1e-14,
        "keras final mean",
    );
    assert_within(
        &k["running"]["var"],
        &[1.0226400625, 1.021608],
        1e-14,
        "keras final var",
    );
}

#[test]
fn a_previous_batch_of_the_wrong_width_is_named() {
    let e = error(
        &[],
        r#"{"norm":"batchnorm","x":[[1,2],[3,5]],"previous_batches":[[[0,1],[2,3]],[[1],[2]]]}"#,
    );
    assert!(
        e.contains("previous_batches[1] has 1 features but x has 2"),
        "{e}"
    );
}

#[test]
fn a_non_finite_result_is_an_error_naming_the_cause() {
    // Before: inv_std, x_hat and y printed as null with exit code 0.
    let e = error(&[], r#"{"norm":"layernorm","x":[[2,2,2]],"eps":0}"#);
    assert!(
        e.contains("norm: forward: inv_std[0] is inf: row 0 is constant (variance 0) and eps = 0, so 1/√(σ² + ε) = 1/0"),
        "{e}"
    );
    let e = error(&[], r#"{"norm":"batchnorm","x":[[1,2],[3,2]],"eps":0}"#);
    assert!(
        e.contains("inv_std[1] is inf: feature (column) 1 is constant (variance 0) and eps = 0"),
        "{e}"
    );
    let e = error(&[], r#"{"norm":"layernorm","x":[[0,1e-170]],"eps":0}"#);
    assert!(e.contains("row 0's variance underflows to 0"), "{e}");
    let e = error(&[], r#"{"norm":"rmsnorm","x":[[1,2],[0,0]],"eps":0}"#);
    assert!(
        e.contains("inv_rms[1] is inf: row 1 is all zeros (mean square 0) and eps = 0, so 1/√(mean x² + ε) = 1/0"),
        "{e}"
    );
    let e = error(
        &["--rms-eps", "outside"],
        r#"{"norm":"rmsnorm","x":[[0,0]],"eps":0}"#,
    );
    assert!(e.contains("1/(√(mean x²) + ε) = 1/0"), "{e}");
    let e = error(
        &[],
        r#"{"norm":"batchnorm","mode":"eval","x":[[1,2]],"running_var":[1,0],"eps":0}"#,
    );
    assert!(
        e.contains("inv_std[1] is inf: running_var[1] is 0 and eps = 0"),
        "{e}"
    );
    // Overflows: the variance, the output through a huge gain, the gradients, the running variance.
    let e = error(&[], r#"{"norm":"layernorm","x":[[1e300,-1e300]]}"#);
    assert!(e.contains("norm: forward: var[0] is inf"), "{e}");
    let e = error(
        &[],
        r#"{"norm":"layernorm","x":[[1,2]],"gamma":[1e308,1e308],"beta":[1e308,1e308]}"#,
    );
    assert!(
        e.contains("norm: forward: y[0][1] is inf: γ·x̂ + β overflows"),
        "{e}"
    );
    let e = error(
        &[],
        r#"{"norm":"layernorm","x":[[1,2],[3,4]],"dy":[[1e308,1e308],[1e308,1e308]]}"#,
    );
    assert!(
        e.contains("norm: backward: dgamma[0] is -inf: Σ dy ⊙ x̂ overflows"),
        "{e}"
    );
    let e = error(
        &[],
        r#"{"norm":"batchnorm","x":[[1,2],[3,4]],"previous_batches":[[[1.3e154,0],[-1.3e154,0]]]}"#,
    );
    assert!(
        e.contains("norm: previous_batches[0]: running_var[0] is inf"),
        "{e}"
    );
}

#[test]
fn a_field_or_option_the_norm_does_not_use_is_refused() {
    let e = error(
        &["--rms-eps", "outside"],
        r#"{"norm":"layernorm","x":[[1,2]]}"#,
    );
    assert!(e.contains("layernorm does not use --rms-eps"), "{e}");
    let e = error(
        &["--momentum-convention", "keras"],
        r#"{"norm":"rmsnorm","x":[[1,2]]}"#,
    );
    assert!(
        e.contains("rmsnorm does not use --momentum-convention"),
        "{e}"
    );
    let e = error(
        &[],
        r#"{"norm":"layernorm","x":[[1,2]],"previous_batches":[]}"#,
    );
    assert!(e.contains("layernorm does not use previous_batches"), "{e}");
    let e = error(
        &[],
        r#"{"norm":"batchnorm","x":[[1,2],[3,4]],"mode":"test"}"#,
    );
    assert!(
        e.contains(r#"unknown mode "test": use "train" or "eval""#),
        "{e}"
    );
}

#[test]
fn shapes_and_empty_arrays_are_named() {
    let e = error(&[], r#"{"norm":"layernorm","x":[]}"#);
    assert!(e.contains("x is empty: it needs at least one row"), "{e}");
    let e = error(&[], r#"{"norm":"layernorm","x":[[]]}"#);
    assert!(e.contains("x has an empty first row"), "{e}");
    let e = error(&[], r#"{"norm":"layernorm","x":[[1,2]],"gamma":[]}"#);
    assert!(
        e.contains("gamma has 0 entries but x has 2 features"),
        "{e}"
    );
    let e = error(&[], r#"{"norm":"layernorm","x":[[1,2]],"dy":[]}"#);
    assert!(e.contains("dy is empty"), "{e}");
    let e = error(&[], r#"{"norm":"layernorm","x":[[1,2],[3]]}"#);
    assert!(
        e.contains("x is ragged: row 0 has 2 entries but row 1 has 1"),
        "{e}"
    );
    let e = error(
        &[],
        r#"{"norm":"batchnorm","x":[[1,2],[3,4]],"previous_batches":[[]]}"#,
    );
    assert!(e.contains("previous_batches[0] is empty"), "{e}");
}
