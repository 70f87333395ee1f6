//! (e) R-I9 screening: 100 proposed function modules against a catalogue of 10,000 running
//! applications (about 40,000 functions), through evaluation's in-memory index, as one
//! submission's screening is answered. The catalogue is synthetic but shaped like the district's:
//! domain × object × action descriptions in Chinese, generated from a fixed seed.

use std::time::{Duration, Instant};

use egov_evaluation::screening::Index;
use serde::Serialize;

use crate::stats;

/// Screening 100 modules answers within this (the suite's target).
pub const TARGET_MS: f64 = 200.0;

#[derive(Debug, Serialize)]
pub struct ScreeningReport {
    pub apps: usize,
    pub functions: usize,
    pub modules: usize,
    pub index_build_ms: f64,
    /// All modules screened, one after another, as one request does.
    pub screen_all_ms: f64,
    pub per_module_p50_ms: f64,
    pub per_module_p99_ms: f64,
    pub target_ms: f64,
    pub target_met: bool,
}

const DOMAINS: &[&str] = &[
    "低保",
    "养老",
    "残疾人",
    "就业",
    "社保",
    "入学",
    "校外培训",
    "疫苗",
    "家庭医生",
    "占道经营",
    "垃圾分类",
    "防汛",
    "安全生产",
    "食品抽检",
    "电梯",
    "物业",
    "老旧小区",
    "危房",
    "信访",
    "党员",
    "退役军人",
    "网格",
    "报表",
    "惠企政策",
    "停车",
    "共享单车",
    "文化场馆",
    "河道水质",
    "扬尘",
    "会议室",
    "公文",
    "财政支付",
    "采购合同",
    "出租房屋",
    "流调",
    "志愿者",
    "信用",
    "应急值班",
    "消防",
    "婚姻登记",
    "医疗废物",
    "公租房",
];
const OBJECTS: &[&str] = &[
    "申请", "补贴", "台账", "工单", "档案", "名单", "预警", "评价", "预约", "巡查", "事件", "资金", "材料", "证照", "积分", "考核", "数据",
    "任务",
];
const ACTIONS: &[&str] = &[
    "在线办理",
    "自动审核",
    "统计分析",
    "实时监测",
    "派单处置",
    "到期提醒",
    "网上登记",
    "全流程追溯",
    "移动端查询",
    "一键上报",
    "定期复核",
    "智能匹配",
    "闭环管理",
    "集中展示",
];
const SUBJECTS: &[&str] = &["居民", "企业", "街道", "社区", "执法人员", "网格员", "老人", "学生", "机关干部", "医疗机构"];

/// A deterministic generator (no dependency, same catalogue every run).
struct Lcg(u64);

impl Lcg {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        from[((self.0 >> 33) as usize) % from.len()]
    }
}

fn function(r: &mut Lcg) -> String {
    let (d, o, a, s) = (r.pick(DOMAINS), r.pick(OBJECTS), r.pick(ACTIONS), r.pick(SUBJECTS));
    let d2 = r.pick(DOMAINS);
    format!("{d}{o}{a}：{s}通过浙里办对{d}{o}进行{a}，结果同步{d2}部门")
}

pub fn run(apps: usize, modules: usize) -> anyhow::Result<ScreeningReport> {
    anyhow::ensure!(apps > 0 && modules > 0, "--screening-apps and --screening-modules must be at least 1");
    let mut r = Lcg(20261124);
    let mut texts: Vec<(usize, usize, String)> = Vec::new();
    for app in 0..apps {
        let n = 3 + app % 3;
        for f in 0..n {
            texts.push((app, f, function(&mut r)));
        }
    }
    let started = Instant::now();
    let index = Index::build(texts.iter().map(|(a, f, t)| (*a, *f, t.as_str())));
    let index_build_ms = started.elapsed().as_secs_f64() * 1000.0;
    let proposed: Vec<String> = (0..modules).map(|_| function(&mut r)).collect();
    let limit = 5;
    // One warm-up pass, then the measured one.
    for m in &proposed {
        std::hint::black_box(index.screen(m, limit));
    }
    let mut h = stats::histogram();
    let started = Instant::now();
    for m in &proposed {
        let t = Instant::now();
        std::hint::black_box(index.screen(m, limit));
        stats::record(&mut h, t.elapsed());
    }
    let all: Duration = started.elapsed();
    let screen_all_ms = all.as_secs_f64() * 1000.0;
    let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    Ok(ScreeningReport {
        apps,
        functions: texts.len(),
        modules,
        index_build_ms,
        screen_all_ms,
        per_module_p50_ms: us(0.5),
        per_module_p99_ms: us(0.99),
        target_ms: TARGET_MS,
        target_met: screen_all_ms < TARGET_MS,
    })
}
