"""The fold and the MinHash signatures, pure."""

from __future__ import annotations

from services.review.console.text import NEAR_DUPLICATE, fold, signature, similarity


def test_fold_removes_diacritics_and_folds_d() -> None:
    assert fold("Nguyễn Văn A") == "nguyen van a"
    assert fold("ĐẶNG Đình Đức") == "dang dinh duc"
    assert fold("Lũng Nặm, Hà Quảng") == "lung nam, ha quang"


def test_near_same_text_is_similar_and_different_text_is_not() -> None:
    a = "Cải tiến khuôn ép đế giày giúp giảm tỷ lệ sản phẩm hỏng ở công đoạn ép nhiệt, tiết kiệm 200 triệu đồng mỗi năm"
    b = "Cai tien khuon ep de giay giup giam ty le san pham hong o cong doan ep nhiet, tiet kiem 200 trieu dong moi nam"
    c = "Tủ thuốc cộng đồng tại bản giúp người dân vùng cao có thuốc thông thường khi ở xa trạm y tế xã"
    sa, sb, sc = signature(a), signature(b), signature(c)
    assert sa and sb and sc
    assert similarity(sa.minhash, sb.minhash) == 1.0  # the same words without accents
    assert set(sa.bands) & set(sb.bands)
    assert similarity(sa.minhash, sc.minhash) < NEAR_DUPLICATE
    assert signature("quá ngắn") is None
