//! `dlf calc scaling`: the law under every constant set, the compute-optimal model, training time and the
//! Huber fit, against numpy and scipy, and the error messages a user sees.
//!
//! The expected numbers were printed by this Python (numpy 2, scipy 1.x, float64):
//!
//   import numpy as np, json
//   from scipy.optimize import minimize
//   from scipy.special import logsumexp
//   sets={'chinchilla':(1.69,406.4,410.7,0.34,0.28),
//         'chinchilla-unrounded':(np.exp(0.5267228),np.exp(6.0073404),np.exp(6.0179186),0.33917084,0.2849083),
//         'epoch':(1.81686,482.00572,2085.4342,0.34781,0.36585)}
//   for k,(E,A,B,a,b) in sets.items():
//       G=(a*A/(b*B))**(1/(a+b)); C=1e24; N=G*(C/6)**(b/(a+b)); D=C/6/N
//       print(k, E+A/7e9**a+B/2e12**b, N, D, E+A/N**a+B/D**b)
//   rng=np.random.default_rng(7); E,A,B,a,b=sets['chinchilla']
//   runs=[[n,d,(E+A/n**a+B/d**b)*np.exp(0.01*rng.standard_normal())]
//         for n in np.geomspace(7e7,16e9,7) for d in np.geomspace(5e9,5e11,6)]
//   R=np.array(runs)
//   def obj(t):
//       pred=logsumexp([t[0]-t[3]*np.log(R[:,0]), t[1]-t[4]*np.log(R[:,1]), np.full(len(R),t[2])],axis=0)
//       r=pred-np.log(R[:,2]); d=1e-3
//       return np.where(np.abs(r)<=d,0.5*r*r,d*(np.abs(r)-0.5*d)).sum()
//   best=min((minimize(obj,[5,5,e,al,be],method='L-BFGS-B',options=dict(maxiter=10000,ftol=1e-16,gtol=1e-12))
//             for al in [0.2,0.5] for be in [0.2,0.5] for e in [-0.5,0.5]), key=lambda r: r.fun)
//   print(np.exp(best.x[2]), np.exp(best.x[0]), np.exp(best.x[1]), best.x[3], best.x[4], best.fun)

use serde_json::Value;

use super::{answer as run_answer, error as run_error};

fn answer(stdin: &str) -> Value {
    run_answer(&["scaling"], stdin)
}

fn error(stdin: &str) -> String {
    run_error(&["scaling"], stdin)
}

fn close(v: &Value, expected: f64, rel: f64, what: &str) {
    let x = v
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is a number: {v}"));
    assert!(
        (x - expected).abs() <= rel * expected.abs(),
        "{what}: {x} vs {expected}"
    );
}

#[test]
fn loss_and_optimum_under_every_constant_set_match_numpy() {
    // (set, L(7e9, 2e12), N_opt(1e24), D_opt(1e24), L at the optimum), from the script above.
    let cases = [
        (
            "chinchilla",
            2.0203012597001138,
            41296702419.415146,
            4035834749563.6924,
            1.911195419914262,
        ),
        (
            "chinchilla-unrounded",
            2.0079842009387248,
            51919989957.114746,
            3210067390312.117,
            1.899987951683964,
        ),
        (
            "epoch",
            2.0642367985002417,
            96000118479.42427,
            1736108968473.7043,
            1.9592555916272665,
        ),
    ];
    for (set, loss, n, d, l_opt) in cases {
        let a = answer(&format!(
            r#"{{"method":"loss","set":"{set}","n":7e9,"d":2e12}}"#
        ));
        close(&a["loss"], loss, 1e-13, set);
        let a = answer(&format!(
            r#"{{"method":"optimal","set":"{set}","flops":1e24}}"#
        ));
        close(&a["optimum"]["n_opt"], n, 1e-12, set);
        close(&a["optimum"]["d_opt"], d, 1e-12, set);
        close(&a["optimum"]["loss"], l_opt, 1e-13, set);
    }
}

#[test]
fn the_rule_of_thumb_and_the_brief_s_training_time() {
    // 20 tokens per parameter: C = 120 N², N = √(5.88e23/120) = 7.0e10 exactly.
    let a = answer(r#"{"method":"optimal","flops":5.88e23}"#);
    close(&a["rule_of_thumb"]["n"], 7e10, 1e-12, "N");
    close(&a["rule_of_thumb"]["d"], 1.4e12, 1e-12, "D");
    // 6 · 70e9 · 1.4e12 / (1000 · 989e12 · 0.4) = 1,486,349.85 s = 17.2031 days.
    let a = answer(
        r#"{"method":"training_time","n":70e9,"d":1.4e12,"gpus":1000,"peak_tflops":989,"mfu":0.4}"#,
    );
    close(&a["flops"], 5.88e23, 1e-15, "flops");
    close(&a["days"], 17.20312324457926, 1e-12, "days");
    let a = answer(r#"{"method":"training_time","flops":5.88e23,"gpus":1000,"peak_tflops":989}"#);
    close(
        &a["days"],
        6.881249297831705,
        1e-12,
        "days at full utilisation",
    );
}

const RUNS: &str = "[[70000000.0,5000000000.0,3.3545989504142297],[70000000.0,12559432157.547909,3.184397463015943],[70000000.0,31547867224.00971,3.027767539266132],[70000000.0,79244659623.05553,2.9028482673356857],[70000000.0,199053585276.74844,2.833026012109606],[70000000.0,500000000000.0,2.7544462791726407],[173088559.57521376,5000000000.0,3.1248198135648755],[173088559.57521376,12559432157.547909,2.9829935572348827],[173088559.57521376,31547867224.00971,2.7906926677605157],[173088559.57521376,79244659623.05553,2.6805159413595114],[173088559.57521376,199053585276.74844,2.6271570492024745],[173088559.57521376,500000000000.0,2.559397724072996],[427994992.22603136,5000000000.0,2.9558033099702983],[427994992.22603136,12559432157.547909,2.747347355998613],[427994992.22603136,31547867224.00971,2.633440171662396],[427994992.22603136,79244659623.05553,2.5445788617424245],[427994992.22603136,199053585276.74844,2.4114340220022528],[427994992.22603136,500000000000.0,2.3691614597529775],[1058300524.4258367,5000000000.0,2.774293861272539],[1058300524.4258367,12559432157.547909,2.6139584380086567],[1058300524.4258367,31547867224.00971,2.4632780621407133],[1058300524.4258367,79244659623.05553,2.396162747652771],[1058300524.4258367,199053585276.74844,2.289716933121658],[1058300524.4258367,500000000000.0,2.261007808329415],[2616853048.1508765,5000000000.0,2.739846294095041],[2616853048.1508765,12559432157.547909,2.551122352217572],[2616853048.1508765,31547867224.00971,2.357003529800799],[2616853048.1508765,79244659623.05553,2.2974041483737704],[2616853048.1508765,199053585276.74844,2.225853694734649],[2616853048.1508765,500000000000.0,2.16534590814827],[6470676067.492011,5000000000.0,2.6274252315365296],[6470676067.492011,12559432157.547909,2.476418811937297],[6470676067.492011,31547867224.00971,2.3265812700680204],[6470676067.492011,79244659623.05553,2.2241335665540247],[6470676067.492011,199053585276.74844,2.182346260656584],[6470676067.492011,500000000000.0,2.0784244584583336],[16000000000.0,5000000000.0,2.6173834696184293],[16000000000.0,12559432157.547909,2.460237718495708],[16000000000.0,31547867224.00971,2.2863740252573095],[16000000000.0,79244659623.05553,2.1900457111298643],[16000000000.0,199053585276.74844,2.111945076891726],[16000000000.0,500000000000.0,2.046878791773043]]";

#[test]
fn the_fit_finds_scipy_s_optimum_on_noisy_runs() {
    // scipy: E 1.7469075, A 410.53359, B 1090.4268, α 0.34065103, β 0.32697013, objective 2.2487926e-4.
    // The Huber objective is only once differentiable, so the optimisers stop at slightly different points
    // of a flat valley: the objective must be no worse, the constants close.
    let a = answer(&format!(r#"{{"method":"fit","runs":{RUNS}}}"#));
    let objective = a["objective"].as_f64().unwrap();
    assert!(
        objective <= 2.2487926472885945e-4 * (1.0 + 1e-6),
        "{objective}"
    );
    let c = &a["constants"];
    close(&c["alpha"], 0.3406510307891551, 1e-3, "α");
    close(&c["beta"], 0.32697013313486706, 1e-3, "β");
    close(&c["e"], 1.7469075051393737, 1e-3, "E");
    close(&c["b"], 1090.4268258499276, 1e-2, "B");
}

#[test]
fn the_fit_recovers_exact_constants_from_noiseless_runs() {
    let rows: Vec<String> = [7e7f64, 3e8, 1e9, 4e9, 16e9]
        .iter()
        .flat_map(|&n| {
            [5e9f64, 2e10, 1e11, 5e11].map(move |d| {
                let l = 1.69 + 406.4 * n.powf(-0.34) + 410.7 * d.powf(-0.28);
                format!("[{n},{d},{l}]")
            })
        })
        .collect();
    let a = answer(&format!(
        r#"{{"method":"fit","runs":[{}],"flops":5.76e23}}"#,
        rows.join(",")
    ));
    close(&a["constants"]["alpha"], 0.34, 1e-6, "α");
    close(&a["constants"]["beta"], 0.28, 1e-6, "β");
    close(
        &a["optimum_at_flops"]["n_opt"],
        32189859151.368168,
        1e-4,
        "N_opt",
    );
}

#[test]
fn errors_name_what_is_wrong() {
    assert!(error(r#"{"method":"loss","n":7e9}"#).contains("needs d"));
    assert!(
        error(r#"{"method":"loss","n":7e9,"d":1e9,"gpus":8}"#).contains("loss does not use gpus")
    );
    assert!(error(r#"{"method":"optimal","flops":1e24,"set":"kaplan"}"#).contains("constant set"));
    assert!(
        error(r#"{"method":"training_time","flops":1e24,"n":1e9,"gpus":8,"peak_tflops":989}"#)
            .contains("either flops or n and d")
    );
    assert!(error(
        r#"{"method":"training_time","flops":1e24,"gpus":8,"peak_tflops":989,"mfu":1.5}"#
    )
    .contains("mfu"));
    assert!(error(r#"{"method":"fit","runs":[[1,2,3],[1,2,3]]}"#).contains("at least 5 runs"));
    assert!(error(r#"{"method":"fit","runs":[[1,2],[1,2]]}"#).contains("[N, D, loss]"));
    assert!(
        error(r#"{"method":"fit","runs":[[1,2,3],[1,2,3],[1,2,3],[1,2,3],[1,-2,3]]}"#)
            .contains("runs[4]")
    );
    assert!(error(r#"{"method":"loss","n":-1,"d":1e9}"#).contains("n must be"));
}
