"""The measured rows of docs/validation/serving.md and how wiresim runs each: one function per section of the
reference data, then the section texts and the rows left out. tools/validate_serving.py imports this file.

    import validate_serving_rows as vr
    rows = vr.section2()          # [Row, ...]: measured figure, `wiresim run` flags, summary key, metric kind
"""

SM = "serving_measurements.md"
MLPERF = "mlperf_inference_v4.1_nvidia_llama2_70b_mixtral.md"
GPTFAST = "gptfast_batch1_decode_tp_scaling_a100.csv"
HERE = "docs/validation/serving"  # scenario inputs written for this report (topology, trace)
MODELS = "workloads/models"

# Metric kinds for the summary.
THROUGHPUT, TTFT, TPOT, ITL, E2E = "throughput", "TTFT", "TPOT", "ITL", "E2E latency"


def model_arg(name):
    """A shipped model by name, or one added for this report by its file."""
    shipped = {"llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "mixtral-8x7b", "mixtral-8x22b", "deepseek-v3"}
    return name if name in shipped else f"{MODELS}/{name}.toml"


class Row:
    """One measured figure and how to predict it.

    flags: the `wiresim run` arguments; metric: a summary.json key, or a function of the summary;
    kind: the metric kind; in_summary: False for rows reported but kept out of the medians.
    """

    def __init__(self, section, source, setup, metric_name, measured, flags, metric, kind, note="",
                 in_summary=True):
        self.section, self.source, self.setup = section, source, setup
        self.metric_name, self.measured, self.flags = metric_name, measured, flags
        self.metric, self.kind, self.note, self.in_summary = metric, kind, note, in_summary
        self.predicted = None
        self.run = None


def makespan_output_rate(s):
    return s["total_output_tokens"] / s["duration"]


def per_gpu(n):
    return lambda s: s["output_throughput"] / n


def input_rate(s):
    return s["total_input_tokens"] / s["duration"]


def all_rows():
    return (section1_tp_table() + section1_versions() + section2() + section3() + section5() + section5_rtx_pro()
            + section6()
            + section8() + section9() + section12b() + gptfast() + mlperf())


# --------------------------------------------------------------------------------------------------------------
# Rows, section by section. Each figure is transcribed from the file and section named in `source`.
# --------------------------------------------------------------------------------------------------------------

def section1_tp_table():
    """Lambda's vLLM 0.5.4 TP table: output tok/s / median ITL at 320 ShareGPT prompts, rate inf."""
    # (column model, wiresim model, weight dtype)
    models = [
        ("Llama-3.1-8B-FP8", "llama-3.1-8b", "fp8"),
        ("Llama-3.1-70B-Instruct-FP8", "llama-3.1-70b", "fp8"),
        ("Hermes-3-Llama-3.1-405B-FP8", "llama-3.1-405b", "fp8"),
        ("Mistral-7B-Instruct-v0.3", "mistral-7b-v0.3", "bf16"),
        ("Mixtral-8x7B-Instruct-v0.1", "mixtral-8x7b", "bf16"),
        ("Mixtral-8x22B-Instruct-v0.1", "mixtral-8x22b", "bf16"),
        ("Mistral-Nemo-Instruct-2407", "mistral-nemo", "bf16"),
        ("Mistral-Large-Instruct-2407", "mistral-large-2407", "bf16"),
    ]
    # Cells as published: "output tok/s/median ITL ms", None = N/A (does not fit).
    table = {
        ("a100", 1): ["1517.54/42.85", "208.79/58.26", None, "1591.4/56.51", None, None, "1277.85/61.48", None],
        ("a100", 2): ["1854.27/38.21", "662.64/120.32", None, "1861.61/53.52", "1017.34/67.24", None,
                      "1593.97/51.39", None],
        ("a100", 4): ["1899.76/40.02", "956.53/88.25", None, "2228.35/44.66", "1098.11/56.05", "715.37/95.54",
                      "1919.13/44.7", "642.03/129.96"],
        ("a100", 8): ["1972.26/40.47", "1162.78/74.12", "467.85/180.74", "2381.43/39.89", "1289.26/49.91",
                      "946.22/71.43", "2035.34/40.7", "947.56/88.72"],
        ("h100", 1): ["3400.4/19.75", "418.92/35.84", None, "3281.19/27.23", None, None, "2414.81/31.16", None],
        ("h100", 2): ["3688.64/18.83", "1727.69/49.33", None, "3758.54/24.26", "1430.42/38.08", None,
                      "3064.06/24.44", None],
        ("h100", 4): ["3475.27/20.26", "2242.99/38.26", None, "4133.32/21.79", "2102.86/30.36", "1190.38/51.35",
                      "3509.24/22.1", "1301.24/56.42"],
        ("h100", 8): ["3931.83/17.61", "2572.8/33.71", "1230.74/73.54", "4397.11/21.56", "2073.9/25.88",
                      "1558.66/39.25", "3686.29/22.85", "1734.19/46.23"],
    }
    topo = {"a100": "dgx-a100", "h100": "dgx-h100"}
    gpu_name = {"a100": "A100-80GB-SXM", "h100": "H100-80GB-SXM"}
    rows = []
    for (gpu, tp), cells in table.items():
        for (column, model, wdtype), cell in zip(models, cells):
            if cell is None:
                continue
            tput, itl = (float(x) for x in cell.split("/"))
            flags = ["--topology", topo[gpu], "--model", model_arg(model), "--plan", f"tp={tp}",
                     "--weight-dtype", wdtype, "--engine", "vllm", "--no-async-scheduling", "--disable-symm-mem-all-reduce", "--requests", "320",
                     "--rate", "inf",
                     "--input-len", "sharegpt-input", "--output-len", "sharegpt-output", "--max-model-len", "2000",
                     "--gpu-memory-utilization", "0.95", "--max-num-seqs", "1024", "--no-chunked-prefill",
                     "--max-num-batched-tokens", "2048", "--seed", "0"]
            setup = f"{tp}x{gpu_name[gpu]}, {column}"
            src = f"{SM} section 1, TP table"
            rows.append(Row("1a", src, setup, "output tok/s", tput, flags, "output_throughput", THROUGHPUT))
            rows.append(Row("1a", src, setup, "median ITL (ms)", itl, flags, "median_itl_ms", ITL))
    return rows


def section1_versions():
    """Lambda's vLLM 0.5.4 vs 0.6.0 table; the multi-step (scheduler steps 10) rows are left out."""
    rows = []
    src = f"{SM} section 1, v0.5.4 vs v0.6.0 table"
    common = ["--topology", "dgx-h100", "--engine", "vllm", "--no-async-scheduling", "--disable-symm-mem-all-reduce", "--rate", "inf",
              "--input-len", "sharegpt-input", "--output-len", "sharegpt-output", "--max-num-seqs", "256",
              "--max-model-len", "2048", "--seed", "0"]
    # vLLM 0.5.x SchedulerConfig: with chunked prefill the token budget defaults to 512, without it to
    # max(max_model_len, 2048) = 2048 here.
    v054 = ["--max-num-batched-tokens", "512"]
    v060 = ["--no-chunked-prefill", "--max-num-batched-tokens", "2048"]
    cases = [
        ("Llama 3.1 8B (BF16 assumed), TP1, 5000 prompts", "llama-3.1-8b", "bf16", 1, 5000,
         {"v0.5.4, chunked prefill": (v054, 3032.04, 64.06, 48.28),
          "v0.6.0, no chunked prefill, 1 step": (v060, 3958.40, 196.24, 179.17)}),
        ("Llama 3.1 70B (BF16 assumed), TP4, 5000 prompts", "llama-3.1-70b", "bf16", 4, 5000,
         {"v0.5.4, chunked prefill": (v054, 1491.93, 125.78, 74.22),
          "v0.6.0, no chunked prefill, 1 step": (v060, 2291.0, 102.99, 63.54)}),
        ("Llama 3.1 405B FP8, TP8, 1280 prompts", "llama-3.1-405b", "fp8", 8, 1280,
         {"v0.5.4, chunked prefill": (v054, 1220.26, 182.72, 144.06),
          "v0.6.0, no chunked prefill, 1 step": (v060, 1331.25, 163.52, 114.42)}),
    ]
    for label, model, wdtype, tp, prompts, versions in cases:
        for version, (extra, tput, tpot, itl) in versions.items():
            flags = ["--model", model_arg(model), "--plan", f"tp={tp}", "--weight-dtype", wdtype, "--requests",
                     str(prompts), *common, *extra]
            setup = f"{label}, {version} (H100 assumed)"
            rows.append(Row("1b", src, setup, "output tok/s", tput, flags, "output_throughput", THROUGHPUT))
            rows.append(Row("1b", src, setup, "median TPOT (ms)", tpot, flags, "median_tpot_ms", TPOT))
            rows.append(Row("1b", src, setup, "median ITL (ms)", itl, flags, "median_itl_ms", ITL))
    return rows


def section2():
    """SGLang 0.3.0 vs vLLM 0.6.0 (10 scheduler steps), sglang.bench_serving, ShareGPT."""
    rows = []
    src_online = f"{SM} section 2, online table"
    src_offline = f"{SM} section 2, offline table"
    setups = {
        "8b": ("Llama 3.1 8B Instruct BF16, 1x A100 80G", ["--topology", "dgx-a100", "--model", "llama-3.1-8b",
                                                           "--plan", "tp=1"]),
        "70b": ("Llama 3.1 70B Instruct BF16, 4x H100 80G TP4", ["--topology", "dgx-h100", "--model",
                                                                 "llama-3.1-70b", "--plan", "tp=4"]),
    }
    engine_flags = {
        # --disable-radix-cache: no prefix caching; --mem-frac 0.88 stated for TP4 offline, used throughout.
        "SGLang": ["--engine", "sglang", "--gpu-memory-utilization", "0.88"],
        # Multi-step scheduling runs without chunked prefill in 0.6.0; budget max(max_model_len, 2048) = 4096.
        # max_num_seqs: 0.6.0's default, 256 (the by-GPU defaults, 1024 on an H100, came with later releases).
        "vLLM": ["--engine", "vllm", "--no-async-scheduling", "--disable-symm-mem-all-reduce", "--max-model-len", "4096",
                 "--gpu-memory-utilization", "0.9", "--no-chunked-prefill", "--max-num-batched-tokens", "4096",
                 "--max-num-seqs", "256"],
    }
    lengths = ["--input-len", "sharegpt-input", "--output-len", "sharegpt-output", "--seed", "0"]
    online = [  # key, rps, prompts, engine, e2e, ttft, tpot, itl
        ("8b", 4, 1200, "SGLang", 1564.17, 31.98, 13.17, 11.93),
        ("8b", 4, 1200, "vLLM", 1691.97, 100.48, 14.14, 129.32),
        ("8b", 8, 2400, "SGLang", 2175.02, 35.68, 17.85, 14.41),
        ("8b", 8, 2400, "vLLM", 2137.16, 120.39, 17.09, 158.63),
        ("70b", 4, 1200, "SGLang", 3005.24, 53.94, 25.03, 21.67),
        ("70b", 4, 1200, "vLLM", 2915.60, 179.15, 23.58, 231.23),
        ("70b", 8, 2400, "SGLang", 4064.98, 58.11, 33.07, 24.45),
        ("70b", 8, 2400, "vLLM", 3752.38, 207.12, 29.15, 275.32),
    ]
    for key, rps, prompts, engine, e2e, ttft, tpot, itl in online:
        label, base = setups[key]
        flags = [*base, *engine_flags[engine], "--rate", str(rps), "--requests", str(prompts), *lengths]
        setup = f"{label}, {engine}, RPS {rps}, {prompts} prompts"
        rows.append(Row("2", src_online, setup, "median E2E (ms)", e2e, flags, "median_e2el_ms", E2E))
        rows.append(Row("2", src_online, setup, "median TPOT (ms)", tpot, flags, "median_tpot_ms", TPOT))
        if engine == "SGLang":
            rows.append(Row("2", src_online, setup, "median TTFT (ms)", ttft, flags, "median_ttft_ms", TTFT))
            rows.append(Row("2", src_online, setup, "median ITL (ms)", itl, flags, "median_itl_ms", ITL))
    offline = [("8b", "SGLang", 4281.51), ("8b", "vLLM", 4132.37), ("70b", "SGLang", 3856.01),
               ("70b", "vLLM", 3700.64)]
    for key, engine, tput in offline:
        label, base = setups[key]
        flags = [*base, *engine_flags[engine], "--rate", "inf", "--requests", "5000", *lengths]
        rows.append(Row("2", src_offline, f"{label}, {engine}, 5000 prompts, RPS inf", "output tok/s", tput, flags,
                        "output_throughput", THROUGHPUT))
    return rows


def section3():
    """TensorRT-LLM v0.5 on one H200, FP8, static batches: output tok/s per GPU."""
    src = f"{SM} section 3"
    cases = [  # model, batch, tp, isl, osl, tok/s/GPU
        ("llama-2-13b", 1024, 1, 128, 128, 11819), ("llama-2-13b", 128, 1, 128, 2048, 4750),
        ("llama-2-13b", 64, 1, 2048, 128, 1349), ("llama-2-70b", 512, 1, 128, 128, 3014),
        ("llama-2-70b", 512, 2, 128, 2048, 1654), ("llama-2-70b", 64, 1, 2048, 128, 341),
        ("llama-2-70b", 32, 1, 2048, 128, 303),
    ]
    rows = []
    for model, batch, tp, isl, osl, tput in cases:
        flags = ["--topology", "hgx-h200", "--model", model_arg(model), "--plan", f"tp={tp}", "--engine", "trtllm",
                 "--weight-dtype", "fp8", "--kv-dtype", "fp8", "--requests", str(batch), "--rate", "inf",
                 "--max-num-seqs", str(batch), "--input-len", str(isl), "--output-len", str(osl),
                 "--no-chunked-prefill"]
        name = {"llama-2-13b": "llama_13b", "llama-2-70b": "llama_70b"}[model]
        setup = f"{name}, batch {batch}, TP{tp}, {isl}/{osl}"
        rows.append(Row("3", src, setup, "output tok/s per GPU", tput, flags, per_gpu(tp), THROUGHPUT))
    return rows


def section5():
    """vLLM 0.19 on one RTX 4090, Llama-3.1-8B, the run's own 300 requests replayed."""
    src = f"{SM} section 5"
    flags = ["--topology", f"{HERE}/rtx4090-1gpu.toml", "--model", "llama-3.1-8b", "--plan", "tp=1", "--engine",
             "vllm", "--trace", f"{HERE}/rtx4090-llama-3.1-8b-sharegpt300.jsonl", "--max-num-seqs", "256",
             "--max-num-batched-tokens", "2048", "--max-model-len", "32768", "--gpu-memory-utilization", "0.9",
             "--prefix-caching"]
    setup = "RTX 4090, Llama-3.1-8B BF16, TP1, 300 requests (trace)"
    figures = [("TTFT mean (ms)", 65456.6, "mean_ttft_ms", TTFT), ("TTFT median (ms)", 60110.9, "median_ttft_ms", TTFT),
               ("TPOT mean (ms)", 32.4, "mean_tpot_ms", TPOT), ("TPOT median (ms)", 30.8, "median_tpot_ms", TPOT),
               ("latency mean (ms)", 86578.3, "mean_e2el_ms", E2E),
               ("latency median (ms)", 83413.3, "median_e2el_ms", E2E),
               ("output tok/s over makespan (derived)", 1066.4, makespan_output_rate, THROUGHPUT)]
    return [Row("5", src, setup, name, meas, flags, key, kind) for name, meas, key, kind in figures]


def section5_rtx_pro():
    """vLLM 0.19 on RTX PRO 6000 Server Edition: Llama-3.1-8B TP1, Qwen3-32B TP2, Qwen3-30B-A3B DP2 x EP2 (PCIe)."""
    src = f"{SM} section 5"
    common = ["--topology", f"{HERE}/rtxpro6000-2gpu.toml", "--engine", "vllm", "--max-num-seqs", "128",
              "--max-num-batched-tokens", "2048", "--gpu-memory-utilization", "0.9", "--prefix-caching"]
    data = "docs/validation/data/models"
    cases = [  # setup, flags, then TTFT mean/median, TPOT mean/median, latency mean/median, output tok/s
        ("RTX PRO 6000, Llama-3.1-8B BF16, TP1, 300 requests (trace)",
         ["--gpus", "0", "--model", "llama-3.1-8b", "--plan", "tp=1",
          "--trace", f"{HERE}/rtxpro6000-llama-3.1-8b-sharegpt300.jsonl"],
         (7097.2, 9442.7, 32.5, 33.4, 28200.7, 29615.6, 2969.3)),
        ("2x RTX PRO 6000 (PCIe), Qwen3-32B BF16, TP2, NCCL only, 300 requests (trace)",
         ["--model", f"{data}/qwen3-32b.config.json", "--plan", "tp=2", "--disable-custom-all-reduce",
          "--trace", f"{HERE}/rtxpro6000-qwen3-32b-sharegpt300.jsonl"],
         (36905.2, 40701.8, 80.3, 84.3, 90408.1, 98648.9, 1249.5)),
        ("2x RTX PRO 6000 (PCIe), Qwen3-30B-A3B BF16, DP2 x EP2, 300 requests (trace)",
         ["--model", f"{data}/qwen3-30b-a3b-instruct-2507.config.json", "--plan", "dp=2,ep=2",
          "--disable-custom-all-reduce", "--trace", f"{HERE}/rtxpro6000-qwen3-30b-a3b-sharegpt300.jsonl"],
         (1086.0, 138.8, 47.3, 48.9, 32344.6, 31462.3, 3116.1)),
    ]
    rows = []
    for setup, flags, (ttft, ttft_med, tpot, tpot_med, lat, lat_med, tput) in cases:
        for name, meas, key, kind in [("TTFT mean (ms)", ttft, "mean_ttft_ms", TTFT),
                                      ("TTFT median (ms)", ttft_med, "median_ttft_ms", TTFT),
                                      ("TPOT mean (ms)", tpot, "mean_tpot_ms", TPOT),
                                      ("TPOT median (ms)", tpot_med, "median_tpot_ms", TPOT),
                                      ("latency mean (ms)", lat, "mean_e2el_ms", E2E),
                                      ("latency median (ms)", lat_med, "median_e2el_ms", E2E),
                                      ("output tok/s over makespan (derived)", tput, makespan_output_rate,
                                       THROUGHPUT)]:
            rows.append(Row("5b", src, setup, name, meas, common + flags, key, kind))
    # A what-if, kept out of the summary: the TP2 run with both GPUs' PCIe links at half their rate.
    setup, flags, figures = cases[1]
    half = ["--degrade", "box/gpu0-box/cpu=0.5", "--degrade", "box/gpu1-box/cpu=0.5"]
    for name, meas, key, kind in [("TTFT mean (ms)", figures[0], "mean_ttft_ms", TTFT),
                                  ("TPOT mean (ms)", figures[2], "mean_tpot_ms", TPOT)]:
        rows.append(Row("5b", src, setup.replace("NCCL only", "NCCL only, what-if: PCIe links at half rate"), name,
                        meas, common + flags + half, key, kind, in_summary=False))
    return rows


def section6():
    """SGLang 0.4.1, DeepSeek-V3, TP16 over two 8x H200 nodes (CUDA graphs off in the measurement)."""
    src = f"{SM} section 6"
    cases = [  # label, kv, rps, prompts, e2e, ttft, tpot, itl, tok/s
        ('"BF16"', "auto", 1, 300, 971353.97, 53189.54, 843.03, 638.68, 275.06),
        ('"BF16"', "auto", 2, 600, 2010951.23, 313373.93, 1622.07, 1192.37, 256.50),
        ('"BF16"', "auto", 4, 1200, 3881082.65, 774460.73, 1645.51, 1178.42, 255.45),
        ('"BF16"', "auto", 8, 2400, 6819185.61, 4072706.72, 2239.22, 1205.60, 250.08),
        ("FP8 + FP8 KV", "fp8", 1, 300, 985610.62, 56824.07, 862.84, 662.33, 271.60),
        ("FP8 + FP8 KV", "fp8", 2, 600, 1975371.99, 305318.37, 1632.35, 1219.14, 288.41),
        ("FP8 + FP8 KV", "fp8", 4, 1200, 3901390.30, 767082.14, 3023.99, 2189.83, 269.19),
        ("FP8 + FP8 KV", "fp8", 8, 2400, 7374173.14, 1680440.41, 2974.87, 2007.02, 276.74),
    ]
    rows = []
    for label, kv, rps, prompts, e2e, ttft, tpot, itl, tput in cases:
        # The checkpoint is block-FP8 in both runs; the labels differ only in the KV cache type.
        # --mem-fraction-static 0.8, as the runs state.
        flags = ["--topology", "oci-h200-2node", "--model", "deepseek-v3", "--plan", "tp=16", "--engine", "sglang",
                 "--gpu-memory-utilization", "0.8",
                 "--weight-dtype", "fp8", "--kv-dtype", kv, "--rate", str(rps), "--requests", str(prompts),
                 "--input-len", "1024", "--output-len", "1024", "--seed", "0"]
        setup = f"2x8 H200, TP16, {label}, RPS {rps}"
        for name, meas, key, kind in [("output tok/s", tput, "output_throughput", THROUGHPUT),
                                      ("median TTFT (ms)", ttft, "median_ttft_ms", TTFT),
                                      ("median TPOT (ms)", tpot, "median_tpot_ms", TPOT),
                                      ("median ITL (ms)", itl, "median_itl_ms", ITL),
                                      ("median E2E (ms)", e2e, "median_e2el_ms", E2E)]:
            rows.append(Row("6", src, setup, name, meas, flags, key, kind))
    return rows


def section8():
    """vLLM (late July 2024), Llama 3.1 405B: FP8 TP8 on one node; PP2xTP8 vs TP16 on two nodes."""
    src = f"{SM} section 8"
    flags = ["--topology", "dgx-h100", "--model", "llama-3.1-405b", "--plan", "tp=8", "--weight-dtype", "fp8",
             "--engine", "vllm", "--no-async-scheduling", "--disable-symm-mem-all-reduce", "--rate", "inf", "--requests", "1000", "--input-len", "1024",
             "--output-len", "128",
             "--max-num-seqs", "256"]  # vLLM 0.5.x's default (the by-GPU defaults came with later releases)
    setup = "405B FP8, TP8, one node (H100 assumed), input 1024 / output 128"
    rows = [Row("8", src, setup, "req/s", 2.82, flags, "request_throughput", THROUGHPUT),
            Row("8", src, setup, "input tok/s", 2884.86, flags, input_rate, THROUGHPUT),
            Row("8", src, setup, "output tok/s", 291.53, flags, "output_throughput", THROUGHPUT)]
    return rows


def section12b():
    """SGLang 1P1D with Mooncake, Qwen3-235B-A22B BF16, TP8 prefill node + TP8 decode node of H20-3e: TTFT at
    concurrency 1 by prompt length."""
    src = f"{SM} section 12b"
    measured = [(128, 129.21), (256, 125.76), (512, 133.91), (1024, 125.84), (2048, 172.05), (4096, 304.02),
                (8192, 591.14), (16384, 1305.15), (32768, 3260.14)]
    rows = []
    for prompt, ttft in measured:
        flags = ["--topology", f"{HERE}/h20-3e-2node.toml", "--model", "qwen3-235b-a22b", "--engine", "sglang",
                 "--prefill-plan", "tp=8", "--decode-plan", "tp=8", "--rate", "inf", "--max-concurrency", "1",
                 "--requests", "50", "--input-len", str(prompt), "--output-len", "128", "--no-chunked-prefill",
                 "--max-num-batched-tokens", "40960"]
        rows.append(Row("12b", src, f"H20-3e 1P1D TP8, Qwen3-235B-A22B BF16, prompt {prompt}", "mean TTFT (ms)", ttft,
                        flags, "mean_ttft_ms", TTFT))
    return rows


def section9():
    """TensorRT-LLM, DeepSeek-R1 FP8 max-throughput on 8x H200: attention-DP 8 + EP8."""
    src = f"{SM} section 9"
    flags = ["--topology", "hgx-h200", "--model", "deepseek-v3", "--plan", "dp=8,ep=8", "--engine", "trtllm",
             "--weight-dtype", "fp8", "--max-num-seqs", "128", "--max-num-batched-tokens", "1151",
             "--max-concurrency", "1024", "--requests", "5120", "--rate", "inf", "--input-len", "1024",
             "--output-len", "2048"]
    setup = "8x H200, DeepSeek-R1 FP8, attention-DP 8 + EP8, batch 128, concurrency 1024, 1024/2048"
    return [Row("9", src, setup, "req/s", 5.6100, flags, "request_throughput", THROUGHPUT),
            Row("9", src, setup, "total output tok/s", 11489.2671, flags, "output_throughput", THROUGHPUT)]


def gptfast():
    """gpt-fast batch-1 decode on 8x A100 (hybrid cube mesh, 330 W cap): TPOT = 1000 / tok/s."""
    src = GPTFAST
    cases = [  # model, technique, weight dtype, tp, tok/s
        ("llama-2-7b", "base bf16", "bf16", 1, 104.9), ("llama-2-7b", "base bf16", "bf16", 2, 168.84),
        ("llama-2-7b", "base bf16", "bf16", 4, 254.02), ("llama-2-7b", "base bf16", "bf16", 8, 328.43),
        ("llama-2-70b", "base bf16", "bf16", 2, 21.32), ("llama-2-70b", "base bf16", "bf16", 4, 38.01),
        ("llama-2-70b", "base bf16", "bf16", 8, 62.50),
        ("llama-2-7b", "int8", "int8", 1, 155.58), ("llama-2-7b", "int4 g32", "int4", 1, 196.80),
        ("llama-2-70b", "int8", "int8", 1, 19.13), ("llama-2-70b", "int4 g32", "int4", 1, 25.25),
        ("llama-2-70b", "int8", "int8", 8, 80.44), ("llama-2-70b", "int4 g32", "int4", 8, 90.77),
    ]
    rows = []
    for model, technique, wdtype, tp, tps in cases:
        flags = ["--topology", "dgx-a100", "--model", model_arg(model), "--plan", f"tp={tp}", "--weight-dtype",
                 wdtype, "--engine", "vllm", "--host-overhead-ms", "0", "--gpu-memory-utilization", "0.99",
                 "--requests", "1", "--rate", "inf",
                 "--input-len", "5", "--output-len", "200"]
        setup = f"{model}, {technique}, TP{tp}, batch 1"
        rows.append(Row("gf", src, setup, "TPOT (ms, 1000 / tok/s)", round(1000.0 / tps, 2), flags,
                        "median_tpot_ms", TPOT))
    return rows


def mlperf():
    """MLPerf v4.1 Llama-2-70B on 8x H100 (TP2 x 4, FP8): the input lengths are not in the stored sources, so each
    figure is predicted at two fixed prompt lengths that bracket the OpenOrca subset (its prompts are capped at
    1024 tokens). Output: 294 tokens, the reference implementation's tokens per sample. Not in the summary."""
    rows = []
    src = f"{MLPERF}, throughput and token-latency tables"
    for isl in (256, 1024):
        common = ["--topology", "dgx-h100", "--model", model_arg("llama-2-70b"), "--plan", "tp=2,dp=4",
                  "--engine", "trtllm", "--weight-dtype", "fp8", "--kv-dtype", "fp8", "--input-len", str(isl),
                  "--output-len", "294", "--seed", "0"]
        off = [*common, "--rate", "inf", "--requests", "8000", "--max-num-seqs", "896"]
        srv = [*common, "--rate", "75", "--requests", "9000", "--max-num-seqs", "1024"]
        tag = f"prompt {isl} (assumed)"
        rows.append(Row("ml", src, f"Offline, {tag}", "tokens/s", 24524.9, off, "output_throughput", THROUGHPUT,
                        in_summary=False))
        rows.append(Row("ml", src, f"Server 75 QPS, {tag}", "TTFT p50 (ms)", 272.954995, srv, "median_ttft_ms",
                        TTFT, in_summary=False))
        rows.append(Row("ml", src, f"Server 75 QPS, {tag}", "TPOT p50 (ms)", 156.419276, srv, "median_tpot_ms",
                        TPOT, in_summary=False))
    return rows


SECTIONS = [
    ("1a", "1. vLLM 0.5.4, Lambda: TP 1/2/4/8 on A100-SXM and H100-SXM (320 ShareGPT prompts, rate inf)",
     "Scenario: `--rate inf --requests 320 --input-len sharegpt-input --output-len sharegpt-output "
     "--max-model-len 2000 --gpu-memory-utilization 0.95 --max-num-seqs 1024 --engine vllm --no-async-scheduling` "
     "(async scheduling came with vLLM v0.10 and became the default in v0.14), weights as the "
     "checkpoint (`*-FP8`: `--weight-dtype fp8`), topology `dgx-a100` or `dgx-h100`. The harness "
     "(LambdaLabsML/vllm-benchmark `benchmark.py`) passes no chunked-prefill flag; vLLM 0.5.x enables chunked "
     "prefill by default only for contexts above 32K and then sets the token budget to max(max_model_len, 2048), "
     "so the runs use `--no-chunked-prefill --max-num-batched-tokens 2048`."),
    ("1b", "1. vLLM 0.5.4 vs 0.6.0, Lambda (ShareGPT, rate inf, max-num-seqs 256, max-seq-len 2048)",
     "The source does not restate the GPU or the 8B/70B precision: H100 (`dgx-h100`) and BF16 are assumed. "
     "v0.5.4 rows: chunked prefill on with vLLM 0.5.x's default budget of 512 tokens; v0.6.0 rows: "
     "`--no-chunked-prefill --max-num-batched-tokens 2048`. The multi-step rows (10 scheduler steps) are left out. All "
     "rows `--no-async-scheduling` (neither release had it)."),
    ("2", "2. SGLang 0.3.0 vs vLLM 0.6.0: Llama 3.1 8B on 1x A100, 70B on 4x H100 TP4",
     "SGLang: `--engine sglang --gpu-memory-utilization 0.88`; vLLM: `--engine vllm --max-model-len 4096 "
     "--gpu-memory-utilization 0.9 --no-chunked-prefill --max-num-batched-tokens 4096 --max-num-seqs 256 "
     "--no-async-scheduling` (0.6.0's defaults; it had no async scheduling). vLLM ran with 10 "
     "scheduler steps, which streams tokens ten at a time: its TTFT and ITL are not modelled and are left out; its "
     "TPOT and E2E are compared. Interconnect not stated; `dgx-a100` / `dgx-h100` assumed."),
    ("3", "3. TensorRT-LLM v0.5 on one H200, FP8, static batches",
     "`--topology hgx-h200 --engine trtllm --weight-dtype fp8 --kv-dtype fp8 --rate inf --requests B "
     "--max-num-seqs B --no-chunked-prefill`, fixed lengths. llama_13b / llama_70b run as Llama-2-13B / 70B "
     "(`workloads/models/llama-2-*.toml`). The KV type is not stated; the batch-1024 13B row only fits with an "
     "8-bit KV cache (1024 x 256 tokens x 819,200 bytes = 215 GB at 16 bits), so FP8 KV is assumed for all rows."),
    ("5", "5. vLLM 0.19 on one RTX 4090, Llama-3.1-8B (LLMServingSim's run)",
     f"The run's own arrivals and token counts (LLMServingSim `bench/examples/RTX4090/Llama-3.1-8B/vllm/"
     f"requests.jsonl`, commit 5daddb2) replayed as a Mooncake trace (`{HERE}/"
     f"rtx4090-llama-3.1-8b-sharegpt300.jsonl`) on a one-GPU topology (`{HERE}/rtx4090-1gpu.toml`); "
     "`--max-num-seqs 256 --max-num-batched-tokens 2048 --max-model-len 32768 --gpu-memory-utilization 0.9 "
     "--prefix-caching`. The makespan row is the refdata's derived figure; the prediction is output tokens over "
     "wiresim's run duration."),
    ("5b", "5b. vLLM 0.19 on RTX PRO 6000 Server Edition: Llama-3.1-8B TP1, Qwen3-32B TP2, Qwen3-30B-A3B DP2 x EP2",
     f"The same harness as 5 (LLMServingSim's runs, commit 5daddb2): each run's own 300 requests replayed as a "
     f"Mooncake trace (`{HERE}/rtxpro6000-*-sharegpt300.jsonl`, converted as for the RTX 4090) on "
     f"`{HERE}/rtxpro6000-2gpu.toml` (two GPUs on one CPU's PCIe Gen5 x16 root ports; the source does not describe "
     "the server). `--max-num-seqs 128 --max-num-batched-tokens 2048 --gpu-memory-utilization 0.9 --prefix-caching` "
     "(the runs' `meta.json`; `max_model_len` unset, so the model's context); the TP2 and EP runs "
     "`--disable-custom-all-reduce` (the refdata: NCCL only). Models: `llama-3.1-8b`, and Qwen3-32B and "
     "Qwen3-30B-A3B-Instruct-2507 from their Hugging Face `config.json` (`docs/validation/data/models/`). The GPU "
     "is wiresim's `rtx-pro-6000` spec, added from datasheet figures with nothing fitted on these runs; its GEMM "
     "times are checked against the same source's kernel profile in `docs/validation/compute.md` (held out)."),
    ("6", "6. SGLang 0.4.1, DeepSeek-V3, TP16 over 2x8 H200 (random 1024/1024, Poisson)",
     "`--topology oci-h200-2node --model deepseek-v3 --plan tp=16 --engine sglang --weight-dtype fp8 "
     "--gpu-memory-utilization 0.8` (the runs' `--mem-fraction-static`), KV auto "
     "(\"BF16\") or fp8. Stand-ins: OCI's RoCE nodes (one 400 Gb/s port per GPU) for DataCrunch's InfiniBand "
     "400 Gb/s nodes. The measured runs had CUDA graphs off and torch.compile on, which wiresim cannot switch: the "
     "refdata calls these rows an untuned bound, overloaded from RPS 1."),
    ("8", "8. vLLM, Llama 3.1 405B FP8 on one 8-GPU node (mean input 1024, output 128)",
     "GPU not restated for this figure: H100 (`dgx-h100`) assumed; `--weight-dtype fp8 --rate inf --requests "
     "1000 --max-num-seqs 256 --no-async-scheduling` (vLLM 0.5.x's defaults), fixed lengths 1024 / 128 (only the "
     "means are published)."),
    ("9", "9. TensorRT-LLM, DeepSeek-R1 FP8 on 8x H200: max-throughput, attention-DP + EP8",
     "`--topology hgx-h200 --model deepseek-v3 --plan dp=8,ep=8 --engine trtllm --weight-dtype fp8 "
     "--max-num-seqs 128 --max-num-batched-tokens 1151 --max-concurrency 1024 --requests 5120 --rate inf "
     "--input-len 1024 --output-len 2048` (R1 has V3's architecture; KV 16-bit, as the row does not say FP8)."),
    ("12b", "12b. SGLang 1P1D (Mooncake), Qwen3-235B-A22B BF16, TP8 prefill + TP8 decode on 2x8 H20-3e: TTFT",
     f"`--topology {HERE}/h20-3e-2node.toml --model qwen3-235b-a22b --engine sglang --prefill-plan tp=8 "
     "--decode-plan tp=8 --rate inf --max-concurrency 1 --requests 50 --output-len 128 --no-chunked-prefill "
     "--max-num-batched-tokens 40960`, fixed prompt lengths (the table's KV sizes are each length's whole KV: "
     "192,512 bytes per token, twice over as TP8 replicates the 4 KV heads). The GPU is wiresim's `h20-3e` spec "
     "(the H20's compute with the H200's memory, assumed); the topology's PCIe layout and switch are assumed "
     "(`docs/validation/serving/h20-3e-2node.toml`). The measurement's TTFT includes SGLang's disaggregation "
     "handoff (bootstrap, the decode node's first step) and Mooncake's transfer costs, which wiresim does not "
     "model (`docs/serving.md`)."),
    ("gf", "gpt-fast: batch-1 decode vs TP on 8x A100 (gptfast_batch1_decode_tp_scaling_a100.csv)",
     "`--topology dgx-a100 --engine vllm --host-overhead-ms 0 --gpu-memory-utilization 0.99 --requests 1 "
     "--input-len 5 --output-len 200`: torch.compile with CUDA graphs leaves no host time per step, PyTorch's "
     "intra-node all-reduce stands in for vLLM's custom kernel, and gpt-fast reserves no KV pool (hence 0.99). Stand-ins: the measurement's A100s sit on a hybrid cube mesh (not NVSwitch) and "
     "were capped at 330 W; `dgx-a100` has neither. int8/int4 are weight-only in gpt-fast; wiresim's int8 is "
     "W8A8 and its int4 uses groups of 128 (gpt-fast: 32). At batch 1 the weight bytes dominate either way."),
    ("ml", "MLPerf Inference v4.1, Llama-2-70B on 8x H100 (TP2 x 4 instances, FP8): a bracket, not in the summary",
     "`--topology dgx-h100 --plan tp=2,dp=4 --engine trtllm --weight-dtype fp8 --kv-dtype fp8`, output 294 "
     "tokens (mlcommons/inference `language/llama2-70b/README.md`: 294.45 tokens per sample). The OpenOrca "
     "subset's prompt lengths are not in the stored sources (prompts are capped at 1024), so every figure is "
     "predicted at fixed prompts of 256 and 1024 tokens; the measurement should lie between if the model is right. "
     "Offline: 8000 requests at once, max batch 896 per instance; Server: Poisson 75 QPS, 9000 requests "
     "(2 minutes; the measurement ran 40). The KV type is assumed FP8."),
]

SHORT = {"1a": "1 (TP table)", "1b": "1 (v0.5.4 vs v0.6.0)", "2": "2 (SGLang vs vLLM)", "3": "3 (TRT-LLM H200)",
         "5": "5 (RTX 4090)", "5b": "5b (RTX PRO 6000)", "6": "6 (DeepSeek TP16)", "8": "8 (405B)",
         "9": "9 (DeepSeek-R1 EP8)", "12b": "12b (H20-3e 1P1D TTFT)", "gf": "gpt-fast", "ml": "MLPerf bracket"}

SKIPPED = [
    ("1", "Multi-step rows of the v0.5.4 vs v0.6.0 table (scheduler steps 10)",
     "wiresim has no multi-step scheduling (ten decode steps per schedule, tokens streamed in bursts)."),
    ("2", "vLLM 0.6.0 median TTFT and median ITL (online table)",
     "set by multi-step streaming (10 steps), which wiresim does not model; TPOT and E2E are compared."),
    ("4", "LMDeploy (TurboMind) v0.1.0a1 on 8x A100, static batches and request throughput",
     "the engine is not one of wiresim's (vllm, sglang, trtllm); its host overhead and kernels are not profiled."),
    ("6", "8x H200 rows (TP8 + DP attention, both precisions)",
     "SGLang 0.4.1's `--enable-dp-attention` runs attention data-parallel and the MoE tensor-parallel; wiresim's "
     "attention-DP always pairs with expert parallelism (ep = tp x dp)."),
    ("6", "SGLang offline Llama 3.1 70B / 405B on H200 (related note)",
     "the dataset is not restated."),
    ("7", "SGLang chunked pipeline parallelism on H20 nodes (ratios and the 1M-token TTFT table)",
     "the nodes' NVLink and network are not described, so no H20 topology can be written (the GPU has a spec, "
     "`h20`); most figures are ratios read from a figure (trust D)."),
    ("8", "PP2 x TP8 vs TP16 without InfiniBand (6.6x)",
     "the network used instead of InfiniBand is not stated, so no topology can be written for it."),
    ("9", "B200 rows; H200 min-latency row",
     "no DGX B200 topology and no NVFP4 weight type; the min-latency rows use MTP speculative decoding, not "
     "modelled (and its acceptance rate is not published)."),
    ("10-12", "DeepSeek production, SGLang PD + large EP, Mooncake PD transfers (12b's TTFT is compared)",
     "10, 11: a disaggregated role's plan takes tp and pp (ep = tp), not EP32/EP72 with attention DP, DeepEP and "
     "two-batch overlap: no comparable run. 12a (vLLM 1P1D, Qwen3-8B, TP8 + TP8 on 2x8 H800, RoCE, concurrency 1): "
     "no Qwen3-8B model file or H800 topology; the nearest run, Llama-3.1-8B 1P1D tp=8 on `dgx-h100-2node` "
     "(`--prefill-plan tp=8 --decode-plan tp=8 --rate inf --max-concurrency 1 --requests 10 --output-len 128`), "
     "moves the KV at the NICs' line rate, 400 GB/s over eight: 0.34 / 1.34 / 5.37 ms for 134 / 537 / 2,147 MB at "
     "1,024 / 4,096 / 16,384 prompt tokens, where Mooncake measured 1.50 / 4.75 / 16.43 ms for 146 / 578 / 2,250 MB "
     "(95 to 137 GB/s; its times fit about 0.4 ms + bytes / 144 GB/s, transfer-engine costs wiresim does not "
     "model). TTFT 12.2 / 31.5 / 122.3 ms predicted against 67.3 / 124.4 / 387.5 ms measured: the gap is the "
     "prefill of a small model at tp=8 and the proxy's handoff, not the transfer. 12b's TTFT rows are section 12b "
     "above (its transfer times are Mooncake's, as in 12a); 12c needs GPTQ INT4 weights (the A10 has a spec, "
     "`a10`)."),
    ("MLPerf", "H200 Llama-2-70B rows, Mixtral-8x7B rows",
     "H200: same dataset gap as the H100 bracket, TP1 x 8; Mixtral: per-system TP configuration and the mixed "
     "dataset's lengths are not in the stored files."),
]
