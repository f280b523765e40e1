package org.serbnn.demo;

import android.content.Context;
import android.graphics.Canvas;
import android.graphics.Color;
import android.graphics.Paint;
import android.util.AttributeSet;
import android.util.TypedValue;
import android.view.View;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** One horizontal bar per class: label, probability bar, percentage; the winner highlighted. */
public final class PosteriorBarsView extends View {
    private final Paint text = new Paint(Paint.ANTI_ALIAS_FLAG);
    private final Paint track = new Paint();
    private final Paint bar = new Paint();
    private final Paint best = new Paint();
    private final float rowHeight;
    private final float labelWidth;
    private final float pad;
    private List<String> labels = new ArrayList<String>();
    private float[] values = new float[0];
    private int highlight = -1;

    public PosteriorBarsView(Context context, AttributeSet attrs) {
        super(context, attrs);
        text.setTextSize(sp(15));
        text.setColor(Color.rgb(33, 33, 33));
        track.setColor(Color.rgb(230, 230, 230));
        bar.setColor(Color.rgb(120, 144, 156));
        best.setColor(Color.rgb(0, 137, 123));
        rowHeight = dp(34);
        labelWidth = dp(96);
        pad = dp(6);
    }

    void setLabels(List<String> newLabels) {
        labels = new ArrayList<String>(newLabels);
        values = new float[labels.size()];
        highlight = -1;
        requestLayout();
        invalidate();
    }

    void setValues(float[] newValues, int winner) {
        values = newValues.clone();
        highlight = winner;
        invalidate();
    }

    @Override
    protected void onMeasure(int widthSpec, int heightSpec) {
        int w = MeasureSpec.getSize(widthSpec);
        int h = (int) Math.ceil(Math.max(1, labels.size()) * rowHeight);
        setMeasuredDimension(w, resolveSize(h, heightSpec));
    }

    @Override
    protected void onDraw(Canvas canvas) {
        float width = getWidth();
        float percentWidth = text.measureText("100.0%") + pad;
        float barLeft = labelWidth;
        float barRight = width - percentWidth;
        Paint.FontMetrics fm = text.getFontMetrics();
        for (int i = 0; i < labels.size(); i++) {
            float top = i * rowHeight + pad / 2;
            float bottom = (i + 1) * rowHeight - pad / 2;
            float baseline = (top + bottom) / 2 - (fm.ascent + fm.descent) / 2;
            float v = i < values.length ? Math.max(0f, Math.min(1f, values[i])) : 0f;
            canvas.drawText(labels.get(i), 0, baseline, text);
            canvas.drawRect(barLeft, top, barRight, bottom, track);
            canvas.drawRect(barLeft, top, barLeft + v * (barRight - barLeft), bottom, i == highlight ? best : bar);
            canvas.drawText(String.format(Locale.US, "%.1f%%", 100f * v), barRight + pad, baseline, text);
        }
    }

    private float dp(float v) {
        return TypedValue.applyDimension(TypedValue.COMPLEX_UNIT_DIP, v, getResources().getDisplayMetrics());
    }

    private float sp(float v) {
        return TypedValue.applyDimension(TypedValue.COMPLEX_UNIT_SP, v, getResources().getDisplayMetrics());
    }
}
