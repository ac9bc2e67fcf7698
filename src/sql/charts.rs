//! The post-session report's SVG charts, drawn server-side with plotters from plain points (no fonts or bitmaps).

use plotters::prelude::*;

type Drawn = Result<(), Box<dyn std::error::Error>>;

/// GMV (euros/dollars) per minute of the show as a line, units as a second line: `(minute,
/// value)` points.
pub fn minute_chart(gmv: &[(f64, f64)], units: &[(f64, f64)]) -> Result<String, String> {
    let mut svg = String::new();
    let draw = |svg: &mut String| -> Drawn {
        let root = SVGBackend::with_string(svg, (760, 300)).into_drawing_area();
        root.fill(&WHITE)?;
        let x_max = (gmv.len().max(2) - 1) as f64;
        let y_max = gmv.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
        let u_max = units.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(&root)
            .caption("GMV and units per minute", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .right_y_label_area_size(50)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)?
            .set_secondary_coord(0f64..x_max, 0f64..u_max);
        chart
            .configure_mesh()
            .x_desc("minute of the show")
            .y_desc("GMV")
            .draw()?;
        chart.configure_secondary_axes().y_desc("units").draw()?;
        chart
            .draw_series(LineSeries::new(gmv.iter().copied(), BLUE.stroke_width(2)))?
            .label("GMV")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
        chart
            .draw_secondary_series(LineSeries::new(units.iter().copied(), RED.stroke_width(2)))?
            .label("units")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    };
    draw(&mut svg).map_err(|e| e.to_string())?;
    Ok(svg)
}

/// Horizontal-free bar chart of `(label, value)` pairs.
pub fn bar_chart(title: &str, bars: &[(String, f64)]) -> Result<String, String> {
    let mut svg = String::new();
    let draw = |svg: &mut String| -> Drawn {
        let root = SVGBackend::with_string(svg, (760, 280)).into_drawing_area();
        root.fill(&WHITE)?;
        // a segmented 0..n-1 has n bars
        let n = bars.len().max(2) as u32;
        let y_max = bars.iter().map(|b| b.1).fold(1.0, f64::max) * 1.1;
        let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d((0u32..n - 1).into_segmented(), 0f64..y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(bars.len().max(1))
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()?;
        chart.draw_series(
            Histogram::vertical(&chart)
                .style(BLUE.mix(0.6).filled())
                .margin(8)
                .data(bars.iter().enumerate().map(|(i, b)| (i as u32, b.1))),
        )?;
        root.present()?;
        Ok(())
    };
    draw(&mut svg).map_err(|e| e.to_string())?;
    Ok(svg)
}
