//! `dlf calc init`: fans, gains, variances and bounds against PyTorch's and Keras's definitions, the
//! mean-field recursion against adaptive numerical integration, and the error messages a user sees.
//!
//! The expected numbers were printed by this script (Python 3.11, numpy 2.x, scipy 1.x). PyTorch itself was not
//! installed: `calculate_gain`, `_calculate_fan_in_and_fan_out`, `kaiming_uniform_`, `kaiming_normal_`,
//! `xavier_uniform_` and `xavier_normal_` are transcribed from `torch/nn/init.py` (their documented formulas),
//! Keras's `compute_fans` and the `VarianceScaling` truncation constant from `keras/src/initializers`. The
//! mean-field expectations use scipy's adaptive `quad` (split at 0) and `dblquad`, independent of the engine's
//! quadrature.
//
//   import math, json
//   import numpy as np
//   from scipy import integrate, stats
//   def calculate_gain(nl, param=None):
//       if nl in ('linear','conv2d','sigmoid'): return 1.0
//       if nl == 'tanh': return 5.0/3
//       if nl == 'relu': return math.sqrt(2.0)
//       if nl == 'leaky_relu':
//           slope = 0.01 if param is None else param
//           return math.sqrt(2.0/(1+slope**2))
//       if nl == 'selu': return 3.0/4
//       raise ValueError(nl)
//   def torch_fans(shape):
//       rf = int(np.prod(shape[2:])) if len(shape) > 2 else 1
//       return shape[1]*rf, shape[0]*rf
//   def keras_fans(shape):
//       if len(shape) == 1: return shape[0], shape[0]
//       if len(shape) == 2: return shape[0], shape[1]
//       rf = int(np.prod(shape[:-2])); return shape[-2]*rf, shape[-1]*rf
//   def kaiming_uniform_bound(shape, a=0, mode='fan_in', nl='leaky_relu'):
//       fi, fo = torch_fans(shape); fan = fi if mode=='fan_in' else fo
//       std = calculate_gain(nl, a)/math.sqrt(fan); return math.sqrt(3.0)*std
//   def kaiming_normal_std(shape, a=0, mode='fan_in', nl='leaky_relu', fans=torch_fans):
//       fi, fo = fans(shape); fan = fi if mode=='fan_in' else fo
//       return calculate_gain(nl, a)/math.sqrt(fan)
//   def xavier_normal_std(shape, gain=1.0, fans=torch_fans):
//       fi, fo = fans(shape); return gain*math.sqrt(2.0/(fi+fo))
//   def xavier_uniform_bound(shape, gain=1.0, fans=torch_fans):
//       return math.sqrt(3.0)*xavier_normal_std(shape, gain, fans)
//   r = {}
//   r['ku_conv'] = kaiming_uniform_bound([64,3,3,3], nl='relu')
//   r['ku_linear_default'] = kaiming_uniform_bound([128,512], a=math.sqrt(5))  # nn.Linear(512, 128)
//   r['ku_leaky_fanout'] = kaiming_uniform_bound([32,16,5,5], a=0.2, mode='fan_out', nl='leaky_relu')
//   r['xn_tanh'] = xavier_normal_std([256,128], calculate_gain('tanh'))
//   r['kn_keras_std'] = kaiming_normal_std([3,3,64,128], nl='relu', fans=keras_fans)
//   r['kn_keras_trunc_scale'] = r['kn_keras_std']/0.87962566103423978   # keras VarianceScaling constant
//   r['xu_keras_as_torch'] = xavier_uniform_bound([3,3,64,128], fans=torch_fans)
//   r['xu_keras_as_keras'] = xavier_uniform_bound([3,3,64,128], fans=keras_fans)
//   r['lecun_uniform_bound'] = math.sqrt(3.0/100)
//   def E(f):
//       g = lambda z: f(z)*stats.norm.pdf(z)
//       return (integrate.quad(g,-np.inf,0,epsabs=1e-14,epsrel=1e-13)[0]
//               + integrate.quad(g,0,np.inf,epsabs=1e-14,epsrel=1e-13)[0])
//   def traj(phi, sw2, sb2, q0, depth):
//       q=[sw2*q0+sb2]
//       for _ in range(depth-1): q.append(sw2*E(lambda z: phi(math.sqrt(q[-1])*z)**2)+sb2)
//       return q
//   tanh=np.tanh; dtanh=lambda x: 1-np.tanh(x)**2
//   q = traj(tanh, 1.5, 0.05, 1.0, 5); r['mf_tanh_q'] = q
//   r['mf_tanh_chi'] = [1.5*E(lambda z: dtanh(math.sqrt(v)*z)**2) for v in q]
//   qs=1.0
//   for _ in range(3000): qs = 1.5*E(lambda z: tanh(math.sqrt(qs)*z)**2)+0.05
//   r['mf_tanh_qstar']=qs; r['mf_tanh_chi1']=1.5*E(lambda z: dtanh(math.sqrt(qs)*z)**2)
//   def cmap(c):
//       f=lambda z1,z2: (tanh(math.sqrt(qs)*z1)*tanh(math.sqrt(qs)*(c*z1+math.sqrt(1-c*c)*z2))
//                        *stats.norm.pdf(z1)*stats.norm.pdf(z2))
//       return (1.5*integrate.dblquad(f,-12,12,-12,12,epsabs=1e-13,epsrel=1e-12)[0]+0.05)/qs
//   c=[0.5]
//   for _ in range(2): c.append(cmap(c[-1]))
//   r['mf_tanh_c'] = c
//   selu=lambda x: (1.0507009873554804934*x if x>0
//                   else 1.0507009873554804934*1.6732632423543772848*(math.exp(x)-1))
//   r['mf_selu_q'] = traj(selu, 2.0, 0.0, 1.0, 4)
//   r['mf_leaky_q'] = traj(lambda x: x if x>0 else 0.2*x, 2.0/(1+0.04), 0.0, 3.0, 3)
//   print(json.dumps(r, indent=1))

use serde_json::Value;

use super::{answer as run_answer, assert_within, fails as run_fails, help};

fn answer(args: &[&str], stdin: &str) -> Value {
    let mut all = vec!["init"];
    all.extend_from_slice(args);
    run_answer(&all, stdin)
}

fn fails(args: &[&str], stdin: &str, needle: &str) {
    let mut all = vec!["init"];
    all.extend_from_slice(args);
    run_fails(&all, stdin, needle);
}

fn num(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

#[test]
fn kaiming_uniform_on_a_conv_kernel_matches_pytorch() {
    let a = answer(
        &[],
        r#"{"scheme":"kaiming_uniform","shape":[64,3,3,3],"activation":"relu"}"#,
    );
    assert_eq!(a["fans"]["fan_in"], 27);
    assert_eq!(a["fans"]["fan_out"], 576);
    assert_eq!(a["fans"]["receptive_field"], 9);
    assert_eq!(a["mode"], "fan_in");
    assert_within(&a["bound"], &[0.4714045207910317], 1e-15, "bound");
    assert!((num(&a["gain"]) - std::f64::consts::SQRT_2).abs() < 1e-15);
    assert!((num(&a["variance"]) - 2.0 / 27.0).abs() < 1e-15);
}

#[test]
fn pytorchs_default_linear_init_is_kaiming_uniform_with_a_sqrt5() {
    // nn.Linear(512, 128).weight has shape (128, 512): bound 1/√512.
    let a = answer(
        &[],
        r#"{"scheme":"kaiming_uniform","shape":[128,512],"activation":"leaky_relu","param":2.23606797749979}"#,
    );
    assert_within(&a["bound"], &[0.04419417382415921], 1e-15, "bound");
}

#[test]
fn kaiming_fan_out_with_a_leaky_slope() {
    let a = answer(
        &[],
        r#"{"scheme":"kaiming_uniform","shape":[32,16,5,5],"activation":"leaky_relu","param":0.2,"mode":"fan_out"}"#,
    );
    assert_eq!(a["fan"], 800.0);
    assert_within(&a["bound"], &[0.08492077756084467], 1e-15, "bound");
}

#[test]
fn xavier_normal_with_the_tanh_gain() {
    let a = answer(
        &[],
        r#"{"scheme":"xavier_normal","shape":[256,128],"activation":"tanh"}"#,
    );
    assert_eq!(a["mode"], "fan_avg");
    assert_within(&a["std"], &[0.12028130608117203], 1e-15, "std");
    // A normal scheme also prints the bound of the uniform with the same variance.
    assert!((num(&a["uniform_bound"]) - 3f64.sqrt() * 0.12028130608117203).abs() < 1e-15);
    assert_eq!(
        a["normal_scale"], a["std"],
        "PyTorch's normal is not truncated"
    );
}

#[test]
fn keras_layout_and_truncated_normal() {
    let a = answer(
        &["--layout", "keras", "--normal", "truncated"],
        r#"{"scheme":"he_normal","shape":[3,3,64,128]}"#,
    );
    assert_eq!(a["fans"]["fan_in"], 576);
    assert_eq!(a["fans"]["fan_out"], 1152);
    assert_within(&a["std"], &[0.05892556509887897], 1e-15, "std");
    assert_within(
        &a["normal_scale"],
        &[0.06698936571449712],
        1e-15,
        "normal_scale",
    );
    assert_eq!(a["conventions"]["layout"], "keras");
    assert_eq!(a["conventions"]["normal"], "truncated");
}

#[test]
fn the_layout_decides_the_fans_of_the_same_array() {
    let keras = answer(
        &["--layout", "keras"],
        r#"{"scheme":"xavier_uniform","shape":[3,3,64,128]}"#,
    );
    let torch = answer(&[], r#"{"scheme":"xavier_uniform","shape":[3,3,64,128]}"#);
    assert_within(&keras["bound"], &[0.05892556509887896], 1e-15, "keras");
    assert_within(&torch["bound"], &[0.011048543456039804], 1e-15, "pytorch");
}

#[test]
fn lecun_uniform_and_the_moment_gain() {
    let a = answer(&[], r#"{"scheme":"lecun_uniform","shape":[10,100]}"#);
    assert_within(&a["bound"], &[0.17320508075688773], 1e-15, "bound");
    // The moment gain equals PyTorch's for ReLU (1/√E[relu(z)²] = √2) and exists for GELU.
    let relu = answer(
        &["--gain", "moment"],
        r#"{"scheme":"kaiming_normal","shape":[4,4],"activation":"relu"}"#,
    );
    assert!((num(&relu["gain"]) - std::f64::consts::SQRT_2).abs() < 1e-13);
    let gelu = answer(
        &["--gain", "moment"],
        r#"{"scheme":"kaiming_normal","shape":[4,4],"activation":"gelu"}"#,
    );
    // scipy: 1/sqrt(E[(z Φ(z))²]) = 1.5335304411955353.
    assert!((num(&gelu["gain"]) - 1.533_530_441_195_535_3).abs() < 1e-12);
}

#[test]
fn mean_field_recursion_against_numerical_integration() {
    let a = answer(
        &[],
        r#"{"activation":"tanh","sigma_w2":1.5,"sigma_b2":0.05,"q0":1,"depth":5,"c0":0.5}"#,
    );
    assert_within(
        &a["q"],
        &[
            1.55,
            0.7613643224002773,
            0.5679463997710603,
            0.49205344333086287,
            0.4566223735685592,
        ],
        1e-11,
        "q",
    );
    assert_within(
        &a["chi"],
        &[
            0.5842784522820856,
            0.7709234964074378,
            0.852848487013744,
            0.8931319666777349,
            0.9140498826648783,
        ],
        1e-11,
        "chi",
    );
    assert_within(&a["q_star"], &[0.41803720053347787], 1e-11, "q_star");
    assert_within(&a["chi1"], &[0.9386362681988514], 1e-11, "chi1");
    assert!(a["phase"].as_str().unwrap().starts_with("ordered"));
    // The correlation map uses 96-node Gauss–Hermite on a smooth integrand: agreement to 1e-9.
    let c: Vec<f64> = a["c"].as_array().unwrap().iter().map(num).collect();
    for (got, want) in c.iter().zip([0.5, 0.5497471547593137, 0.5932590656892012]) {
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    }
}

#[test]
fn mean_field_with_kinked_activations() {
    let selu = answer(&[], r#"{"activation":"selu","sigma_w2":2,"depth":4}"#);
    assert_within(
        &selu["q"],
        &[2.0, 3.445016794440537, 5.322448522744221, 7.616207403959614],
        1e-11,
        "selu q",
    );
    assert!(
        selu.get("q_star").is_none(),
        "SELU under He has no fixed point"
    );
    // Leaky ReLU at its own gain keeps any second moment: q is constant from the first layer.
    let leaky = answer(
        &[],
        r#"{"activation":"leaky_relu","param":0.2,"sigma_w2":1.9230769230769231,"q0":3,"depth":3}"#,
    );
    assert_within(
        &leaky["q"],
        &[5.769230769230768, 5.769230769230769, 5.769230769230769],
        1e-12,
        "leaky q",
    );
}

#[test]
fn errors_name_the_problem() {
    fails(
        &[],
        r#"{"scheme":"kaiming_normal","shape":[4,4],"activation":"gelu"}"#,
        "no gain for gelu; use --gain moment",
    );
    fails(
        &[],
        r#"{"scheme":"lecun_normal","shape":[4,4],"activation":"relu"}"#,
        "lecun_normal does not use activation",
    );
    fails(
        &[],
        r#"{"scheme":"xavier_uniform","shape":[4,4],"sigma_w2":1}"#,
        "xavier_uniform does not use sigma_w2",
    );
    fails(
        &["--normal", "truncated"],
        r#"{"scheme":"xavier_uniform","shape":[4,4]}"#,
        "xavier_uniform does not use --normal",
    );
    fails(
        &[],
        r#"{"scheme":"kaiming_normal","shape":[8]}"#,
        "fewer than 2 dimensions",
    );
    fails(&[], r#"{"scheme":"kaiming_normal"}"#, "needs \"shape\"");
    fails(
        &[],
        r#"{"scheme":"he_unifrom","shape":[4,4]}"#,
        "he_unifrom",
    );
    fails(
        &[],
        r#"{"activation":"swish2","sigma_w2":1}"#,
        "unknown activation `swish2`",
    );
    fails(&[], r#"{"activation":"tanh"}"#, "give \"scheme\"");
    fails(
        &[],
        r#"{"activation":"tanh","sigma_w2":-1}"#,
        "sigma_w2 must be a finite number ≥ 0",
    );
    fails(
        &[],
        r#"{"activation":"linear","sigma_w2":100,"depth":1000}"#,
        "no fixed point",
    );
    fails(
        &[],
        r#"{"activation":"relu","sigma_w2":3,"c0":0.5}"#,
        "c0 needs the length map's fixed point",
    );
    fails(&["--layout", "nchw"], "{}", "nchw");
}

#[test]
fn help_names_every_convention() {
    let h = help("init");
    for needle in [
        "--layout pytorch|keras",
        "--gain pytorch|moment",
        "--normal plain|truncated",
        "0.87962566103423978",
        "calculate_gain",
        "compute_fans",
    ] {
        assert!(h.contains(needle), "help lacks {needle:?}");
    }
}
