"""Made-up Vietnamese people and texts shared by the bench's generators (no imports: the render
bench's child processes measure their own memory)."""

from __future__ import annotations

FIRST = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Nông", "Lò"]
MIDDLE = ["Thị", "Văn", "Đức", "Minh", "Thu", "Ngọc", "Hữu", "Thanh"]
GIVEN = ["Hoa", "Lan", "Hùng", "Dũng", "Trang", "Tuấn", "Hương", "Nam", "Bình", "Yến", "Sơn", "Thảo"]
TITLES = [
    "Cải tiến quy trình đóng gói sản phẩm",
    "Số hoá sổ theo dõi đoàn viên công đoàn cơ sở",
    "Tự động hoá khâu kiểm tra chất lượng đầu vào",
    "Rút ngắn thời gian tổng hợp báo cáo thi đua",
    "Nâng cao an toàn khi bảo dưỡng thiết bị nâng hạ",
]
SENTENCES = [
    "Trước đây việc này làm thủ công trên giấy, mỗi tháng mất khoảng ba ngày công để tổng hợp.",
    "Sáng kiến thay bằng bảng tính dùng chung, mỗi tổ tự cập nhật số liệu hằng ngày.",
    "Sau ba tháng áp dụng, thời gian tổng hợp giảm còn nửa ngày, sai sót gần như không còn.",
    "Người lao động được hướng dẫn trong một buổi, không cần mua thêm thiết bị.",
    "Chi phí thực hiện dưới năm triệu đồng, giá trị làm lợi ước tính hơn hai trăm triệu đồng mỗi năm.",
    "Lắp thêm cảm biến hẹn giờ để tắt đèn và quạt ở khu vực không có người làm việc.",
]
