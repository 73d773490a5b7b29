"""Reference values for tests/detect.rs, computed with numpy and scikit-learn,
written from docs/definitions.md §3 independently of the Rust code.

Run from the repository root with the project venv:

    .venv/bin/python tests/reference/detect_ref.py

It writes tests/reference/detect_ref.json (committed). Arrays are stored as
{"shape", "data"} with repr precision, so Rust reads back the exact doubles.

- mahalanobis: class means, the tied covariance with the 1/N normalisation
  (scikit-learn's EmpiricalCovariance on the class-centred features, checked
  against an explicit numpy sum) and min_k (f - mu_k)^T pinv(S) (f - mu_k);
  class 3 of 4 has no sample and must be left out.
- kd: -log(mean_j exp(-|f - x_j|^2 / sigma^2)) by an explicit double loop, and
  with scipy's logsumexp for a far-away query where the direct form underflows.
- lid: Ma et al.'s mle_batch (first neighbour dropped, k capped at the
  minibatch size - 1) with scipy's cdist, for random points (the hand-derived
  case lives in tests/detect.rs); and their get_lids_random_batch loop on fixed
  "activations" (three layers given by fixed maps of the points): every
  minibatch of clean samples is the neighbourhood of its clean, adversarial
  and noisy samples.
- kde: scikit-learn KernelDensity(bandwidth=h).score_samples with h = sigma/sqrt(2),
  the held-out log-likelihood of a grid of sigma (per class, summed) and its
  argmax, for `sigma: auto`.
- logistic_cv: scikit-learn's StratifiedKFold(5) folds, np.logspace(-4, 4, 10)
  and LogisticRegressionCV(Cs=10, cv=5, scoring="accuracy") (tight tolerance),
  raw and after StandardScaler: chosen C, mean fold accuracy, decision values.
- logistic: scikit-learn LogisticRegression(C=1.0) (lbfgs, tightened tol so the
  reference is the exact minimiser), raw and after StandardScaler, coefficients
  and decision values; cross-checked against scipy.optimize on the written-out
  objective 0.5 |w|^2 + C sum log(1 + exp(-s (w.x + b))).
- bu: Feinman et al.'s preds_mc.var(axis=0).mean(axis=1).
"""

import json
import pathlib

import numpy as np
import scipy
from scipy.optimize import minimize
from scipy.spatial.distance import cdist
from scipy.special import logsumexp
from sklearn.covariance import EmpiricalCovariance
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(20240611)


def arr(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": [float(v) for v in a.reshape(-1)]}


out = {}

# --- mahalanobis -------------------------------------------------------------
K, D = 4, 4
y = np.array([0, 1, 2] * 10)
centres = rng.normal(0, 3, size=(K, D))
A = rng.normal(size=(D, D))
f = centres[y] + rng.normal(size=(len(y), D)) @ A
query = rng.normal(0, 3, size=(8, D))
present = np.unique(y)
means = np.stack([f[y == k].mean(axis=0) for k in present])
centred = f - means[np.searchsorted(present, y)]
cov = sum(np.outer(c, c) for c in centred) / len(y)
cov_sk = EmpiricalCovariance(assume_centered=True).fit(centred).covariance_
assert np.allclose(cov, cov_sk, rtol=1e-12, atol=1e-12)
P = np.linalg.pinv(cov, hermitian=True)
dist = np.array([[(q - m) @ P @ (q - m) for m in means] for q in query])
out["mahalanobis"] = {
    "classes": K,
    "f": arr(f),
    "y": y.tolist(),
    "query": arr(query),
    "means": arr(means),
    "present": present.tolist(),
    "cov": arr(cov),
    "score": arr(dist.min(axis=1)),
}

# --- kd ----------------------------------------------------------------------
kd_cases = []
refs = rng.normal(size=(7, 3))
q = rng.normal(size=(5, 3))
for sigma in (0.5, 2.0):
    s = np.empty(len(q))
    for i in range(len(q)):
        acc = 0.0
        for j in range(len(refs)):
            acc += np.exp(-np.sum((q[i] - refs[j]) ** 2) / sigma**2)
        s[i] = -np.log(acc / len(refs))
    kd_cases.append({"sigma": sigma, "query": arr(q), "refs": arr(refs), "score": arr(s)})
# Far away: every kernel value underflows to 0 in the direct form.
far = q + 100.0
sigma = 0.5
d2 = cdist(far, refs, "sqeuclidean")
s = -(logsumexp(-d2 / sigma**2, axis=1) - np.log(len(refs)))
with np.errstate(divide="ignore"):
    assert np.all(np.isinf(-np.log(np.exp(-d2 / sigma**2).mean(axis=1))))
kd_cases.append({"sigma": sigma, "query": arr(far), "refs": arr(refs), "score": arr(s)})
out["kd"] = kd_cases

# --- lid ---------------------------------------------------------------------
def mle_batch(data, queries, k):
    """Ma et al.'s mle_batch, re-implemented from its description in float64
    (the authors cast to float32): k capped at len(data) - 1, the first
    neighbour of every query dropped, then -k / sum_i log(r_i / r_k)."""
    k = min(k, len(data) - 1)
    r = np.sort(cdist(queries, data), axis=1)[:, 1 : k + 1]
    return -k / np.sum(np.log(r / r[:, -1:]), axis=1)


x = rng.normal(size=(6, 5))
refs = rng.normal(size=(9, 5))
out["lid"] = [
    {"data": arr(refs), "queries": arr(x), "k": 4, "lid": arr(mle_batch(refs, x, 4))},
    {"data": arr(refs), "queries": arr(refs), "k": 3, "lid": arr(mle_batch(refs, refs, 3))},
    # k past the minibatch: capped at len(data) - 1.
    {"data": arr(refs[:5]), "queries": arr(x), "k": 20, "lid": arr(mle_batch(refs[:5], x, 20))},
]

# --- logistic regression -----------------------------------------------------
# Features (KD, BU) of a kd-bu fit on an L-GM model (synthetic data, FGSM eps=0.3)
# where Newton with Armijo alone stalled at |grad| ~ 3e-7: the regression case.
# The first 95 rows are clean (negative), the rest adversarial.
KD_BU_STALL_X = np.array([
    [-0.3381956575556211, -0.9671696025954949], [-0.25156159640632536, -0.7869052692327233],
    [-0.6161107230649413, -0.5236996928604652], [-0.7015906991820555, -0.5986408743800141],
    [-0.6871092179889963, -0.6322285639929816], [-0.797737602066757, -0.9465937201787302],
    [-0.8783381645568659, -0.7488060718384678], [-1.1165750260827068, 0.1909653285141941],
    [-0.8539050068279934, -0.9772989778543992], [-0.8635367474896167, -0.9990392835812602],
    [-0.3977395845727931, -1.0340142550285556], [-0.658209749534071, -0.9632347900058099],
    [-0.4770308340422629, -0.3361805060306023], [-0.8314604783240163, -0.9198442332339729],
    [-0.6453522388780298, -0.21995390503905926], [-0.839788251432225, -0.8165542097583081],
    [0.005009042959184972, -1.089706742198964], [-1.057098914192102, -0.9527815302047337],
    [-0.513478344413551, 0.3151391299301124], [-0.8191274393521298, 0.9310271966000004],
    [-1.1026368754293308, -0.317761980785265], [-0.5858721952018376, -0.6183754788984615],
    [-0.981438372467224, -0.8788106538287207], [-0.5282303985740981, 1.055340616485434],
    [-0.9339570100722174, -1.0584340689208698], [-0.8316732571988713, -0.8743185610141118],
    [-1.3171049986512713, -0.845251251220765], [-0.6067498757912542, -0.11417930159228339],
    [-0.5886177438052292, -0.8401556316138377], [0.3635657011475013, -0.3362820227975529],
    [-0.4014614010068646, -0.8907033180490017], [-0.8097251353383741, -1.0596755691685815],
    [-1.2037631326363418, -0.7961848676407949], [-0.8013293223812431, -0.18247388575038248],
    [-1.1921466540301269, -0.8462022975495979], [-0.7558686094391647, -1.0022733719222408],
    [-1.0901529896571962, -0.5168482406251013], [-0.6331661252619061, -0.4252753880248587],
    [-0.16135447054611873, -0.9581162471838583], [-0.9550309880188811, -0.5771873086370336],
    [-1.1283749567615053, -0.3584618152966114], [0.3600558566629286, -1.0583568511746813],
    [-0.5357554668318573, 0.14648264483856124], [-0.9793418365701071, -0.6750566857507483],
    [-0.8213673793228282, -0.8823599265114547], [-0.6262197348527356, -1.0238731122903748],
    [-1.0739611968847433, -0.4542151523453513], [-1.040421531974027, -0.6180254614389836],
    [-1.0272332793843317, -0.972024468538861], [-1.0952995189068384, 0.38867755113632213],
    [-0.6345958163885119, 0.12992185135693965], [-0.8579550935246021, -0.7638039693371068],
    [-0.09264362001347412, 1.451888836831948], [-0.21790835456053648, 0.40248456229949997],
    [-1.0536232463154414, -0.733282574023964], [-0.6330690597011784, 0.5577441399154288],
    [-1.0712220617138473, -0.8269127849206023], [-1.2685428496516151, 2.1647288345859446],
    [-0.9054396369350622, -1.07180764744123], [-1.180269900437927, 0.03666696210682967],
    [-0.6641127698645013, -0.7453950873005908], [-0.9783003971625015, -0.5294865269346475],
    [-1.0091054763712006, -0.6639218017605094], [-0.9792864174231769, -0.4642805014855043],
    [-0.8798870761151605, -0.5243911335408986], [-0.8560056478295618, -1.0159128545170686],
    [-0.9954839880617662, -0.4150732941464686], [-0.8256341919915942, -0.29148130270099704],
    [-0.576215897057062, -0.8118262236638064], [-1.017295791821771, -0.4781348556438051],
    [-0.7418369472993984, -0.7670422755714981], [-0.7963054735238496, -0.046887001485295544],
    [-0.0058990047139841455, -0.45295368871347724], [-0.9528439906743491, -1.079713931574975],
    [-0.09770147583368419, -1.0796300700679224], [-0.7262939157951076, -0.5667306671467272],
    [-0.9904130786104945, -0.8148167345811186], [-0.4948827177666954, -0.8132974139038149],
    [-0.19414455632024138, 0.6644642365354899], [-1.064920764660503, -0.640541094703807],
    [-1.0225824415835612, -0.40659613498797115], [0.08790608173753754, -0.7718283948930388],
    [-1.0290056613694576, -0.5921999127327822], [-0.8147747663139148, -0.7062540484197879],
    [-0.5361026185867258, -0.9675849641942119], [-1.2979334063167463, -0.8015132065896884],
    [-0.6783028072467031, -0.8445199024320598], [-0.45147995052139756, -1.0626185965901296],
    [-0.6943766862010564, -0.4141003606315653], [-0.5126209085928747, -0.5650677974783965],
    [-0.8506654500575438, -0.6500259478874344], [-0.8706312204047966, -0.6199943351857269],
    [-0.1302956833584556, -1.0584373485249245], [-0.5960898021871667, -1.0277709984299603],
    [-0.4951795296459809, 0.18751365787973573], [1.680558814073689, 0.16629705755055882],
    [0.6941083734457367, 0.47384870317323896], [-0.047496754100891, -0.21433303157913025],
    [0.08119146515918035, -0.17362705876031254], [1.4233047585241152, 0.4919800611679946],
    [1.6957446322284329, -0.07185150447946424], [0.5864012584639813, 0.5927336296469707],
    [1.130262379755016, 0.0934823338331902], [1.147517524501679, 0.249360280553396],
    [-0.6193586562251127, 0.12720191238395476], [0.6085413280054325, 1.1400760861845007],
    [-0.021138779747827782, 0.22783252160064185], [0.09677793491693854, 0.04002409437809686],
    [1.6636766841925485, 0.03551351686706773], [-0.3150691689162922, -0.5353456709242309],
    [1.4341642337007325, -0.0316159638099822], [0.9848109423804312, 0.970246626241655],
    [0.6918480755919798, 1.3132212550752622], [0.020390069089432833, -0.339141470255453],
    [-0.10251874922784102, -0.5982307564176008], [-1.0730026756076345, 0.5348480086627428],
    [1.2513580639261022, 0.29321627908691117], [0.16563041186384056, -0.45414486822969663],
    [0.9418217034738486, 0.564361723412918], [0.8977703524873788, 0.17876193691012793],
    [2.3315091621346133, 3.036538399770482], [-0.4513279733418697, 0.3316288343715072],
    [-0.7246653822870158, -0.07486533969552837], [0.3330625087968754, 0.036723205051965364],
    [0.7841762980166603, -0.02104004587182942], [0.8638202151312888, 1.8158042554949565],
    [0.5977487154377229, 0.6421035010599491], [1.16124873393385, 1.4052965708034497],
    [1.6653490911499367, 2.289942735440683], [0.22851349566664272, 0.497230703935039],
    [0.30254135115166997, -0.21974294497179955], [1.779347382607106, 0.5814072795896782],
    [0.6419214929432431, 0.2942428323553255], [2.0422023189789797, 0.6031634036444519],
    [0.9637702500047804, 0.356933399605181], [1.514322753665402, 1.0920592610155604],
    [1.3324930765336322, -0.06382625773062399], [-0.025303697604259504, 0.36085454732094835],
    [0.5921213120387722, 0.6516774911026261], [1.8085534430747356, 0.5486253377742558],
    [0.8654183360701057, 0.0990687379673012], [0.5901565946728579, 0.9491083012628262],
    [-0.5089650541709084, -0.08938581232663599], [2.586830450884967, 1.4200538168383332],
    [-0.46638503368298034, -0.18764221483753143], [0.08881950730569128, -0.3002389628543316],
    [0.6558421390590742, 1.60909936649308], [-0.061722306223048314, 0.6124954706643412],
    [-0.24827847946699258, -0.9497367064325194], [0.6923124733340426, 0.26920106843712066],
    [-0.7148071147224011, 0.643559678080344], [-0.27476217134894704, 0.12123983935299573],
    [0.01846894579072064, 0.9514903283558056], [0.22727280979811035, 0.07657285584722127],
    [3.1294973361484333, 1.074070366924874], [1.0163295015190756, -0.3728584301278609],
    [1.2077184848339984, 3.001670078968853], [0.6394097617455916, 0.26755126355258185],
    [0.6912284264248757, -0.5579614500963893], [-0.291415552504936, -0.8632595244433254],
    [1.3519783174016378, 1.2078209252101302], [1.9474968765946166, 0.3410041796666244],
    [2.0532666165124795, -0.26866528621136376], [0.7428834892353868, -0.2393783996085542],
    [-0.42818157457824246, 0.35685621826550035], [-0.6983148996336443, -0.5656125020600109],
    [0.4301024359574983, 0.17857738318904157], [1.2542240729586687, 1.0754545307983332],
    [1.0989449995545535, -0.1848405980929761], [0.7877621601118002, 0.15988550054536627],
    [-0.22574424471778481, 1.1433998731806208], [1.144331350200187, 1.1364625698994624],
    [0.9383781788151475, -0.20712998870981353], [0.9599488712884099, 0.22055771636921062],
    [-0.13685275585871187, -0.3970434083023343], [1.9984959927459447, -0.0922906524981873],
    [-0.11277493963902639, 0.9529045472912727], [0.4468842509044769, -0.18509179803119735],
    [1.067192775842448, 1.0093594337035554], [1.5053967380025706, 0.9011764745347999],
    [-0.03801748050294114, -0.23365701657545912], [0.771233926024689, 0.06759052260183458],
    [-0.05645691201992663, 0.040709703184636695], [0.14847137247773207, 0.6948324046225676],
    [2.480693816529087, 2.4509108488474927], [0.9878541033307446, 5.362326001400795],
    [0.6897850816596859, 2.3393753282248255], [1.1324956550581442, 0.5711350861546974],
    [-0.09403072067533938, -0.3141249262836082], [4.328428821942306, 5.6202493664280135],
])
KD_BU_STALL_NEG = 95


def objective(theta, X, yb, C):
    w, b = theta[:-1], theta[-1]
    s = np.where(yb, 1.0, -1.0)
    return 0.5 * w @ w + C * np.sum(np.logaddexp(0.0, -s * (X @ w + b)))


log_cases = []
n = 40
X = rng.normal(size=(n, 3)) * np.array([1.0, 5.0, 0.2]) + np.array([0.0, 10.0, -1.0])
logit = 1.5 * X[:, 0] - 0.3 * (X[:, 1] - 10.0) + 4.0 * (X[:, 2] + 1.0)
yb = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
X_new = rng.normal(size=(6, 3)) * np.array([1.0, 5.0, 0.2]) + np.array([0.0, 10.0, -1.0])
# Larger, kd-bu-like (a skewed, heavy-tailed feature): the optimum's objective
# (~100) is large enough that Armijo backtracking stalls before a tight gradient
# tolerance; the regression case for that.
n_big = 400
yb_big = np.arange(n_big) % 2 == 1
X_big = np.stack([rng.gamma(1.5, 1.0, n_big) + 0.8 * yb_big, rng.normal(size=n_big) - 0.5 * yb_big], axis=1)
stall_y = np.arange(len(KD_BU_STALL_X)) >= KD_BU_STALL_NEG
cases = [
    (X, yb, X_new, False),
    (X, yb, X_new, True),
    (X_big, yb_big, X_big[:5], True),
    (KD_BU_STALL_X, stall_y, KD_BU_STALL_X[:5], False),
]
for X, yb, X_new, standardize in cases:
    lr = LogisticRegression(C=1.0, tol=1e-12, max_iter=100000)
    model = make_pipeline(StandardScaler(), lr) if standardize else lr
    model.fit(X, yb)
    Z = model[0].transform(X) if standardize else X
    opt = minimize(objective, np.zeros(X.shape[1] + 1), args=(Z, yb, 1.0), method="BFGS", options={"gtol": 1e-10})
    theta = np.concatenate([lr.coef_[0], lr.intercept_])
    assert np.allclose(opt.x, theta, rtol=1e-6, atol=1e-6), (opt.x, theta)
    case = {
        "standardize": standardize,
        "d": X.shape[1],
        "x": arr(X),
        "y": yb.tolist(),
        "coef": arr(lr.coef_[0]),
        "intercept": float(lr.intercept_[0]),
        "x_new": arr(X_new),
        "decision": arr(model.decision_function(X)),
        "decision_new": arr(model.decision_function(X_new)),
    }
    if standardize:
        case["mean"] = arr(model[0].mean_)
        case["scale"] = arr(model[0].scale_)
    log_cases.append(case)
out["logistic"] = log_cases

# --- bu ----------------------------------------------------------------------
logits = rng.normal(size=(6, 5, 4)) * 2.0
probs = np.exp(logits - logsumexp(logits, axis=2, keepdims=True))
out["bu"] = {"probs": arr(probs), "bu": arr(probs.var(axis=0).mean(axis=1))}

# --- lid minibatches (get_lids_random_batch) -----------------------------------
rng2 = np.random.default_rng(20260512)


def minibatches(n, batch):
    """Consecutive runs of `batch`; a last run of one sample (no neighbour, the
    authors' code would divide 0 by 0) joins the run before it."""
    starts = list(range(0, n, batch))
    ends = starts[1:] + [n]
    if len(starts) > 1 and ends[-1] - starts[-1] == 1:
        starts.pop()
        ends.pop(-2)
    return list(zip(starts, ends))


W1 = rng2.normal(size=(6, 4))
W2 = rng2.normal(size=(6, 3))


def layers(x):
    return [x, np.tanh(x @ W1), x @ W2]


def lids_random_batch(X, X_noisy, X_adv, k, batch):
    n_layers = len(layers(X[:1]))
    out_c, out_n, out_a = (np.zeros((len(X), n_layers)) for _ in range(3))
    for start, end in minibatches(len(X), batch):
        clean = layers(X[start:end])
        noisy = layers(X_noisy[start:end])
        adv = layers(X_adv[start:end])
        for i in range(n_layers):
            out_c[start:end, i] = mle_batch(clean[i], clean[i], k)
            out_n[start:end, i] = mle_batch(clean[i], noisy[i], k)
            out_a[start:end, i] = mle_batch(clean[i], adv[i], k)
    return out_c, out_n, out_a


mb_cases = []
for n, batch, k in [(25, 10, 20), (21, 10, 3)]:
    X = rng2.normal(size=(n, 6))
    X_adv = X + 0.3 * rng2.normal(size=(n, 6))
    X_noisy = X + 0.1 * rng2.normal(size=(n, 6))
    c, nz, a = lids_random_batch(X, X_noisy, X_adv, k, batch)
    mb_cases.append({
        "n": n, "batch": batch, "k": k, "clean": arr(X), "adv": arr(X_adv), "noisy": arr(X_noisy),
        "lid_clean": arr(c), "lid_adv": arr(a), "lid_noisy": arr(nz),
        "minibatches": [list(b) for b in minibatches(n, batch)],
    })
out["minibatch_lid"] = {"w1": arr(W1), "w2": arr(W2), "cases": mb_cases}

# --- kde: sigma auto ----------------------------------------------------------
from sklearn.neighbors import KernelDensity  # noqa: E402

K_KDE, D_KDE = 3, 3
y_fit = np.arange(90) % K_KDE
y_held = np.arange(24) % K_KDE
centres = rng2.normal(0, 4, size=(K_KDE, D_KDE))
f_fit = centres[y_fit] + rng2.normal(size=(90, D_KDE)) * 0.7
f_held = centres[y_held] + rng2.normal(size=(24, D_KDE)) * 0.7
# The grid: the within-class spread of the fit features times 10^(i/4), i = -8..8.
means = np.stack([f_fit[y_fit == k].mean(axis=0) for k in range(K_KDE)])
scale = np.sqrt(np.sum((f_fit - means[y_fit]) ** 2) / len(f_fit))
grid = scale * 10.0 ** (np.arange(-8, 9) / 4)
ll = np.array([
    sum(
        KernelDensity(kernel="gaussian", bandwidth=s / np.sqrt(2)).fit(f_fit[y_fit == k]).score(f_held[y_held == k])
        for k in range(K_KDE)
    )
    for s in grid
])
best = int(np.argmax(ll))
# Without the normalising constant the largest sigma would win: the choice must be interior.
assert 0 < best < len(grid) - 1, best
sigma_a, sigma_b = 0.8, 2.5
q = rng2.normal(0, 3, size=(5, D_KDE))
out["kde"] = {
    "classes": K_KDE,
    "fit_f": arr(f_fit), "fit_y": y_fit.tolist(), "held_f": arr(f_held), "held_y": y_held.tolist(),
    "scale": scale, "grid": arr(grid), "log_likelihood": arr(ll), "sigma": float(grid[best]),
    "density": [
        {"sigma": s, "query": arr(q), "refs": arr(f_fit[:30]),
         "log_density": arr(KernelDensity(bandwidth=s / np.sqrt(2)).fit(f_fit[:30]).score_samples(q))}
        for s in (sigma_a, sigma_b)
    ],
}

# --- logistic regression, cross-validated C ----------------------------------
import warnings  # noqa: E402

from sklearn.linear_model import LogisticRegressionCV  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

folds_cases = []
for yb in [
    np.array([1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1], dtype=bool),
    np.arange(31) % 3 == 0,
    np.array([0, 1, 1, 0, 1, 0, 1], dtype=bool),
]:
    n_splits = min(5, int(yb.sum()), int((~yb).sum()))
    fold = np.empty(len(yb), dtype=int)
    for f, (_, test) in enumerate(StratifiedKFold(n_splits).split(np.zeros(len(yb)), yb)):
        fold[test] = f
    folds_cases.append({"y": yb.tolist(), "n_splits": n_splits, "folds": fold.tolist()})

cv_cases = []
n_neg, n_pos = 60, 30  # clean and noisy negatives, adversarial positives: 2:1
for standardize, spread in [(False, 1.0), (True, 1.0)]:
    yb = np.concatenate([np.zeros(n_neg, bool), np.ones(n_pos, bool)])
    X = rng2.normal(size=(len(yb), 2)) * np.array([1.0, 3.0]) + np.array([0.0, 5.0])
    X[yb, 0] += 1.2 * spread
    X[yb, 1] += 2.0 * spread
    X_new = rng2.normal(size=(5, 2)) * np.array([1.0, 3.0]) + np.array([0.5, 6.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        lr = LogisticRegressionCV(Cs=10, cv=5, scoring="accuracy", tol=1e-12, max_iter=100000)
        model = make_pipeline(StandardScaler(), lr) if standardize else lr
        model.fit(X, yb)
    Z = model[0].transform(X) if standardize else X
    # Every fold fit classifies its validation samples with a clear margin,
    # so the accuracies do not hang on the solver's last digits.
    for train, test in StratifiedKFold(5).split(Z, yb):
        for C in lr.Cs_:
            m = LogisticRegression(C=C, tol=1e-12, max_iter=100000).fit(Z[train], yb[train])
            assert np.min(np.abs(m.decision_function(Z[test]))) > 1e-6
    scores = lr.scores_[True]  # (folds, Cs)
    assert lr.C_[0] != 1.0
    cv_cases.append({
        "standardize": standardize, "d": 2, "x": arr(X), "y": yb.tolist(), "x_new": arr(X_new),
        "cs": arr(lr.Cs_), "c": float(lr.C_[0]), "accuracy": arr(scores.mean(axis=0)),
        "coef": arr(lr.coef_[0]), "intercept": float(lr.intercept_[0]),
        "decision": arr(model.decision_function(X)), "decision_new": arr(model.decision_function(X_new)),
    })
out["logistic_cv"] = {"grid": arr(np.logspace(-4, 4, 10)), "folds": folds_cases, "cases": cv_cases}

import sklearn  # noqa: E402

out["versions"] = {"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__}
path = pathlib.Path(__file__).with_name("detect_ref.json")
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path}")
