export default {
  vi: {
    "figures.trend": "Diễn biến tiếp nhận",
    "figures.trend_step": "Gộp theo",
    "figures.trend_desc": "Biểu đồ số phản ánh tiếp nhận và đã giải quyết theo thời gian; tổng {n} phản ánh.",
    "figures.step.day": "Theo ngày",
    "figures.step.week": "Theo tuần",
    "figures.by_ward": "Theo phường/xã",
    "figures.by_category": "Theo lĩnh vực",
    "figures.filter_by": "Lọc theo mục này",
    "figures.resolved_of_received": "Trong số đó đã giải quyết",
  },
  en: {
    "figures.trend": "Reports over time",
    "figures.trend_step": "Group by",
    "figures.trend_desc": "Chart of reports received and resolved over time; {n} reports in all.",
    "figures.step.day": "By day",
    "figures.step.week": "By week",
    "figures.by_ward": "By ward",
    "figures.by_category": "By category",
    "figures.filter_by": "Filter by this",
    "figures.resolved_of_received": "Of those, resolved",
  },
};
